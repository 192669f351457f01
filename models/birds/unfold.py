"""Load an exported float ONNX (BatchNorm folded into the convolutions) back into the torch student.

The recipe's later rounds start from the exported graph, not from a checkpoint: the graph is what is kept in
the repository. Every folded convolution gets its weight and bias back; its BatchNorm is then rebuilt so the
network computes exactly what the graph computes (eval mode) while training still normalises by batch
statistics: running mean/var = the statistics of the bare convolution on training images, gamma = the running
std, beta = folded bias + running mean. Runs in .venv-birds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


def _onnx_convs(path: Path) -> list[tuple[np.ndarray, np.ndarray | None]]:
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    convs = []
    for node in graph.node:
        if node.op_type == "Conv":
            bias = init[node.input[2]] if len(node.input) > 2 else None
            convs.append((init[node.input[1]], bias))
    return convs


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Every Conv2d in definition order (= execution order for these nets) with the BatchNorm after it."""
    mods = list(model.modules())
    pairs = []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            bn = mods[i + 1] if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d) else None
            pairs.append((m, bn))
    return pairs


@torch.no_grad()
def load_onnx_weights(model: nn.Module, path: Path, images: torch.Tensor) -> None:
    """Fill model from the folded graph at path; images (float NCHW, raw 0..255) give the BN statistics."""
    convs, pairs = _onnx_convs(path), _conv_bn_pairs(model)
    if len(convs) != len(pairs):
        raise SystemExit(f"{path} has {len(convs)} convolutions, the model {len(pairs)}")
    stats: dict[int, list[torch.Tensor]] = {}
    hooks = []
    for k, ((w, b), (conv, bn)) in enumerate(zip(convs, pairs, strict=True)):
        if tuple(w.shape) != tuple(conv.weight.shape):
            raise SystemExit(f"convolution {k}: graph {w.shape} vs model {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(w.copy()))
        bias = torch.from_numpy(b.copy()) if b is not None else torch.zeros(w.shape[0])
        if bn is None:
            conv.bias.copy_(bias)
            continue
        # identity BatchNorm carrying the folded bias: the net now computes the graph exactly
        bn.weight.fill_(1.0)
        bn.bias.copy_(bias)
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        hooks.append(conv.register_forward_hook(
            lambda _m, _i, out, k=k: stats.setdefault(k, []).append(out.detach())))
    model.eval()
    for i in range(0, len(images), 250):
        model(images[i:i + 250])
    for h in hooks:
        h.remove()
    before = model(images[:16])  # what the graph computes
    for k, (_conv, bn) in enumerate(pairs):
        if bn is None:
            continue
        out = torch.cat(stats[k])
        mean, var = out.mean((0, 2, 3)), out.var((0, 2, 3), unbiased=False)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.bias.add_(mean)
        bn.weight.copy_(torch.sqrt(var + bn.eps))
    after = model(images[:16])
    if not torch.allclose(before, after, atol=1e-3, rtol=1e-3):
        raise SystemExit(f"rebuilding BatchNorm changed the outputs: {before[:2]} vs {after[:2]}")
