"""MobileNetV3-Small written in plain torch (torchvision does not import beside torch 2.13 here).

Variant for 64x64 inputs: the first bottleneck keeps stride 1 (the standard net has stride 2 there), so the
total stride is 16 and the last feature map is 4x4 -- within the RV1103 NPU's 7x7 GlobalAveragePool limit --
instead of a 2x2 map that throws away most of a 64x64 image. The shipped model uses width multiplier 2.0
(every block's channels doubled): at width 1.0 it stayed below 90% on birds/val (models/README.md). The
head is 1x1 convolutions on the pooled [N, C, 1, 1] tensor so the graph stays 4-D (NPU friendly) until the
final Flatten.

The model takes raw RGB 0..255 (float32, NCHW) and normalises inside the graph, so the RKNN build uses
mean 0 / std 1 and the NPU can take uint8 NHWC RGB straight from the camera preprocessing.
"""
from __future__ import annotations

import torch
from torch import nn

# kernel, expanded channels, out channels, squeeze-excite, activation ("RE" | "HS"), stride
SMALL_BLOCKS: list[tuple[int, int, int, bool, str, int]] = [
    (3, 16, 16, True, "RE", 1),  # stride 2 in the paper; 1 here for low-resolution inputs (see docstring)
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
]


def make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def act_layer(kind: str) -> nn.Module:
    return nn.Hardswish() if kind == "HS" else nn.ReLU()


def conv_bn_act(cin: int, cout: int, k: int, stride: int, groups: int, act: str | None) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, momentum=0.03),
    ]
    if act is not None:
        layers.append(act_layer(act))
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        squeeze = make_divisible(channels / 4)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.relu = nn.ReLU()
        self.gate = nn.Hardsigmoid()
        self.pool = nn.AdaptiveAvgPool2d(1)  # exported as GlobalAveragePool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.pool(x)
        return x * self.gate(self.fc2(self.relu(self.fc1(s))))


class Bottleneck(nn.Module):
    def __init__(self, cin: int, k: int, exp: int, cout: int, se: bool, act: str, stride: int) -> None:
        super().__init__()
        self.residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(conv_bn_act(cin, exp, 1, 1, 1, act))
        layers.append(conv_bn_act(exp, exp, k, stride, exp, act))
        if se:
            layers.append(SqueezeExcite(exp))
        layers.append(conv_bn_act(exp, cout, 1, 1, 1, None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = 2, width: float = 1.0, dropout: float = 0.2,
                 mean: tuple[float, float, float] = (127.5, 127.5, 127.5),
                 std: tuple[float, float, float] = (127.5, 127.5, 127.5)) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("inv_std", 1.0 / torch.tensor(std).view(1, 3, 1, 1))
        stem = make_divisible(16 * width)
        layers: list[nn.Module] = [conv_bn_act(3, stem, 3, 2, 1, "HS")]
        cin = stem
        for k, exp, cout, se, act, stride in SMALL_BLOCKS:
            exp_c, out_c = make_divisible(exp * width), make_divisible(cout * width)
            layers.append(Bottleneck(cin, k, exp_c, out_c, se, act, stride))
            cin = out_c
        last = make_divisible(576 * width)
        layers.append(conv_bn_act(cin, last, 1, 1, 1, "HS"))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # 4x4 at 64x64 in: inside the NPU's 7x7 limit
        self.head = nn.Sequential(
            nn.Conv2d(last, 1024, 1), nn.Hardswish(), nn.Dropout(dropout), nn.Conv2d(1024, num_classes, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * self.inv_std  # raw RGB 0..255 in, normalised inside the graph
        x = self.features(x)
        x = self.pool(x)
        return torch.flatten(self.head(x), 1)  # logits
