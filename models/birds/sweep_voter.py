"""Choose the RV1103 app's vote settings (thresholds, penalty, k) by a sweep through the board's own decision
code, and measure the pipeline-level figures the model card reports. Runs in the project's .venv (camrt, the
C++ runtime's bindings, and onnxruntime).

Frames, composed from birds/val (the 32x32 images upscaled bilinear to the model side S, as a camera frame
would show a bird at that size):
- square: each val image alone, an S x S frame (one crop);
- wide: each val image in a 4:3 frame (round(4S/3) x S, the board camera's 640x480 shape), at a random
  horizontal place, the strip beside it taken from another not_bird image; the pipeline cuts it into three
  overlapping S x S crops (camrt.plan_crops), as it cuts a 640x480 frame into three 480x480 ones, so the
  image fills three quarters or more of every crop. The draw is seeded.
Each crop goes through the board's preprocessing (camrt.crop_resize), the model (the int8 ONNX twin, what the
emulated board runs) and camrt.softmax; camrt.Voter decides. Scored: the RAW decision of each frame (before
hysteresis, which a folder of unrelated frames would only blur), as balanced accuracy and per-class recall.
The sweep keeps fallback not_bird (an undecided frame reports no bird) and picks the setting with the best
mean balanced accuracy over the two frame kinds among those whose bird recall is at least --min-recall on
both (if none is, the best mean balanced accuracy).
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import camrt
import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = Path(__file__).resolve().parent
DEFAULT_VAL = HERE.parents[2] / "shared" / "data" / "birds" / "val"
LABELS = ("bird", "not_bird")
# 0.30 .. 0.95: below 0.5 still matters, since a frame's score is the crops' MEAN minus the penalty
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(14)]
PENALTIES = (0.0, 0.05, 0.1, 0.2)
KS = (1, 2, 3)


def load_images(val: Path, side: int) -> tuple[list[np.ndarray], np.ndarray]:
    images, labels = [], []
    for idx, label in enumerate(LABELS):
        for jpg in sorted((val / label).glob("*.jpg")):
            with Image.open(jpg) as im:
                images.append(np.asarray(im.convert("RGB").resize((side, side), Image.BILINEAR), np.uint8))
            labels.append(idx)
    return images, np.array(labels)


def wide_frames(images: list[np.ndarray], labels: np.ndarray, seed: int
                ) -> tuple[list[np.ndarray], np.ndarray]:
    """One 4:3 frame per val image, as the board's camera frames are (640x480 there): the S x S image at a
    random horizontal place in a round(4S/3) x S frame, the strip beside it filled with the same columns of
    another not_bird image. The frame's class is the image's."""
    rng = np.random.default_rng(seed)
    side = images[0].shape[0]
    width = round(side * 4 / 3)
    others = np.flatnonzero(labels == 1)
    frames = []
    for i, img in enumerate(images):
        filler = images[int(rng.choice(others[others != i]))]
        frame = np.concatenate([filler, filler[:, : width - side]], axis=1)  # width x side of scenery
        at = int(rng.integers(0, width - side + 1))
        frame[:, at:at + side] = img
        frames.append(np.ascontiguousarray(frame))
    return frames, labels.copy()


def crop_scores(sess: ort.InferenceSession, frames: list[np.ndarray], side: int, n_crops: int) -> np.ndarray:
    """(frames, crops, classes) softmax scores through the board's crop planner and preprocessing."""
    feed = sess.get_inputs()[0].name
    out = []
    for frame in frames:
        h, w = frame.shape[:2]
        rows = []
        for rect in camrt.plan_crops(w, h, n_crops, side, side):
            x = camrt.preprocess(frame, "RGB888", rect, side, side, "RGB")
            logits = sess.run(None, {feed: x.transpose(2, 0, 1)[None].astype(np.float32)})[0][0]
            rows.append(camrt.softmax(np.ascontiguousarray(logits, np.float32)))
        out.append(rows)
    return np.array(out, np.float32)


def score(decisions: np.ndarray, truth: np.ndarray) -> dict:
    recall = {label: float((decisions[truth == c] == c).mean()) for c, label in enumerate(LABELS)}
    return {"balanced_accuracy": float(np.mean(list(recall.values()))), "recall": recall,
            "undecided": int((decisions < 0).sum()), "frames": int(len(truth))}


def raw_decisions(scores: np.ndarray, thresholds: tuple[float, float], penalty: float, k: int) -> np.ndarray:
    fallback = LABELS.index("not_bird")
    voter = camrt.Voter(list(thresholds), penalty=penalty, k=k, hysteresis=0, fallback=fallback)
    return np.array([voter.vote(s.tolist()).raw_decision for s in scores])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=HERE / "birds_lite0_int8.onnx")
    ap.add_argument("--val", type=Path, default=DEFAULT_VAL)
    ap.add_argument("--out", type=Path, required=True, help="JSON: every setting's figures and the choice")
    ap.add_argument("--min-recall", type=float, default=0.92, help="bird recall the choice must keep")
    ap.add_argument("--current", type=Path, default=HERE.parents[1] / "rv1103_app" / "deploy" / "config.json",
                    help="config whose settings are also scored, for comparison")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--apply", action="store_true",
                    help="write the chosen thresholds, penalty and k into --current (other keys kept)")
    args = ap.parse_args()
    sess = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    side = int(sess.get_inputs()[0].shape[2])
    images, labels = load_images(args.val, side)
    wide, wide_truth = wide_frames(images, labels, args.seed)
    kinds = {"square": (crop_scores(sess, images, side, 3), labels),
             "wide_three_crop": (crop_scores(sess, wide, side, 3), wide_truth)}
    results = []
    for tb, tn, penalty, k in itertools.product(THRESHOLDS, THRESHOLDS, PENALTIES, KS):
        row = {"thresholds": {"bird": tb, "not_bird": tn}, "penalty": penalty, "k": k}
        for kind, (scores, truth) in kinds.items():
            row[kind] = score(raw_decisions(scores, (tb, tn), penalty, k), truth)
        row["mean_balanced_accuracy"] = float(np.mean([row[kind]["balanced_accuracy"] for kind in kinds]))
        results.append(row)
    ok = [r for r in results if all(r[kind]["recall"]["bird"] >= args.min_recall for kind in kinds)]
    # ties: the higher bird recall on wide frames, then the milder setting (lower thresholds, penalty, k)
    best = max(ok or results, key=lambda r: (round(r["mean_balanced_accuracy"], 6),
                                             r["wide_three_crop"]["recall"]["bird"],
                                             -r["thresholds"]["bird"], -r["thresholds"]["not_bird"],
                                             -r["penalty"], -r["k"]))
    current = json.loads(args.current.read_text())
    cur = {"thresholds": current["thresholds"], "penalty": current["penalty"], "k": current["k"]}
    for kind, (scores, truth) in kinds.items():
        ths = (current["thresholds"]["bird"], current["thresholds"]["not_bird"])
        cur[kind] = score(raw_decisions(scores, ths, current["penalty"], current["k"]), truth)
    report = {
        "model": args.model.name, "input_side": side, "frames": {k: len(v[1]) for k, v in kinds.items()},
        "method": __doc__.split("\n\n", 1)[1].strip(),
        "grid": {"thresholds": THRESHOLDS, "penalty": list(PENALTIES), "k": list(KS), "fallback": "not_bird",
                 "settings": len(results)},
        "min_bird_recall": args.min_recall, "met_by_any": bool(ok),
        "chosen": best, "previous_config": cur, "all": results,
    }
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({"chosen": best, "previous_config": cur}, indent=1))
    if args.apply:
        current.update(thresholds=best["thresholds"], penalty=best["penalty"], k=best["k"])
        args.current.write_text(config_text(current))
        print(f"wrote {args.current}")


def config_text(config: dict) -> str:
    """The deploy config as the repo keeps it: one key per line."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in config.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    main()
