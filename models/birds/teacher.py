"""A dense ResNet-9: the distillation teacher of the MobileNetV3-Small student, and (exported from the third
teacher run) the birds_resnet9 model. Runs in .venv-birds.

Plain 3x3 conv-BN-ReLU stacks learn CIFAR-sized images well from few samples on a CPU, where the depthwise
student plateaus below the target. It takes the 32x32 images at their own size (raw RGB 0..255, normalised
inside like the student), so it costs little per training step.
"""
from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn_relu(channels, channels), conv_bn_relu(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Teacher(nn.Module):
    """ResNet-9 layout (prep, three pooled stages, residual pairs after the first and last) at width w."""

    def __init__(self, num_classes: int = 2, width: int = 32) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            conv_bn_relu(3, w),
            conv_bn_relu(w, 2 * w), nn.MaxPool2d(2), Residual(2 * w),
            conv_bn_relu(2 * w, 4 * w), nn.MaxPool2d(2),
            conv_bn_relu(4 * w, 8 * w), nn.MaxPool2d(2), Residual(8 * w),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.fc = nn.Linear(8 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features((x - 127.5) / 127.5))
