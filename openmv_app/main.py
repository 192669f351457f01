# Classify what the camera sees with model.tflite (labels in model.txt), drive the RGB LED per class and
# print one JSON line per frame. Settings come from config.json (see README.md); a bad config.json is
# reported and the last good settings stay in force. Runs on OpenMV firmware >= 4.5.6 (`ml`) and on
# older firmware with the legacy `tf` module.
import gc
import os
import time

try:
    import json
except ImportError:
    import ujson as json  # type: ignore[no-redef]

import cam
import config
import decide
import infer
import leds
import smoothing

MODEL = "model.tflite"
LABELS = "model.txt"
CONFIG = "config.json"
SCHEMA = 1  # the result schema version of the JSON lines


def read_labels(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except (UnicodeError, ValueError):
        text = None
    if text is None:
        raise ValueError("%s is not UTF-8 text" % path)
    return [line.strip() for line in text.split("\n") if line.strip()]


def config_signature():
    try:
        st = os.stat(CONFIG)
        return (st[6], st[8])
    except OSError:
        return None


def load_config(current, labels, sig):
    """Returns (config, accepted): the config to run on after reading config.json (the current one, and
    accepted False, when the file is bad)."""
    fallback = "defaults" if current is None else "last good config"
    if sig is None:
        if current is None:
            print("config: no %s, using defaults" % CONFIG)
        else:
            print("config: %s removed, using defaults" % CONFIG)
        return config.defaults(labels), True
    cfg = None
    if sig[0] > config.MAX_BYTES:  # checked before reading: the file could be most of the filesystem
        errors = ["%d bytes is too big for a config (the limit is %d)" % (sig[0], config.MAX_BYTES)]
    else:
        try:
            with open(CONFIG, "rb") as f:
                data = f.read(config.MAX_BYTES + 1)
        except OSError as exc:
            print("config: %s: cannot read (%s), keeping the %s" % (CONFIG, exc, fallback))
            return current or config.defaults(labels), False
        errors = None
    if errors is None:
        cfg, errors = config.parse(data, labels, cam.available_framesizes(config.FRAMESIZES))
    if errors:
        for e in errors:
            print("config: %s: %s" % (CONFIG, e))
        print("config: %s rejected, running on the %s" % (CONFIG, fallback))
        return current or config.defaults(labels), False
    if current is None:
        print("config: %s loaded" % CONFIG)
    return cfg, True


def config_changes(old, new):
    """{key: [old, new]} for each setting a reload changed."""
    out = {}
    for key in new:
        if old.get(key) != new[key]:
            out[key] = [old.get(key), new[key]]
    return out


def report_reload(old, new, accepted, frame):
    """A reload, told twice: a log line with what changed (old -> new per key) and, for the host's tools,
    an event line of the result schema."""
    changes = config_changes(old, new) if accepted else {}
    if accepted:
        told = ", ".join("%s %s -> %s" % (k, json.dumps(v[0]), json.dumps(v[1])) for k, v in changes.items())
        message = "%s reloaded" % CONFIG
        print("config: %s: %s" % (message, told or "nothing changed"))
    else:
        message = "%s rejected, running on the last good config" % CONFIG
    event = {"schema": SCHEMA, "board": "openmv", "event": "config", "frame": frame, "accepted": accepted,
             "changes": changes, "message": message}
    print(json.dumps(event))


def main():
    labels = read_labels(LABELS)
    clf = infer.Classifier(MODEL)
    if clf.outputs is not None and clf.outputs != len(labels):
        raise ValueError(
            "%s has %d labels but %s gives %d scores" % (LABELS, len(labels), MODEL, clf.outputs)
        )
    sig = config_signature()
    cfg, _ = load_config(None, labels, sig)
    rgb = leds.open_leds()
    snapshot = cam.open_camera(cfg["pixformat"], cfg["framesize"])
    cam.set_streaming(cfg["stream"])
    smoother = smoothing.Smoother(cfg["smoothing"])
    frame = 0
    last_start = None
    while True:
        t0 = time.ticks_us()
        img = snapshot()
        t1 = time.ticks_us()
        raw = clf.scores(img, cfg["roi"])
        t2 = time.ticks_us()
        if len(raw) != len(labels):
            raise ValueError(
                "%s has %d labels but %s gives %d scores" % (LABELS, len(labels), MODEL, len(raw))
            )
        scores = smoother.push(raw)
        c, i = decide.decide(scores, cfg["threshold"])
        label = labels[c] if c >= 0 else None
        r, j = decide.decide(raw, cfg["threshold"])
        leds.show(rgb, cfg["leds"].get(config.UNKNOWN if label is None else label, "off"))
        if cfg["stream"] and cfg["roi"] is not None:
            img.draw_rectangle(cfg["roi"], color=(255, 255, 0))
        frame += 1
        t3 = time.ticks_us()
        period = time.ticks_diff(t0, last_start) if last_start is not None else time.ticks_diff(t3, t0)
        last_start = t0
        # Result schema 1 (host_tools/results/SCHEMA.md), shared with the RV1103 board program.
        line = {
            "schema": SCHEMA,
            "board": "openmv",
            "frame": frame,
            "label": label,
            "score": round(scores[i], 5),
            "scores": {labels[k]: round(scores[k], 5) for k in range(len(labels))},
            "raw": {
                "label": labels[r] if r >= 0 else None,
                "score": round(raw[j], 5),
            },
            "ms": {
                "capture": round(time.ticks_diff(t1, t0) / 1000.0, 2),
                "inference": round(time.ticks_diff(t2, t1) / 1000.0, 2),
                "total": round(time.ticks_diff(t3, t0) / 1000.0, 2),
            },
            "fps": round(1000000.0 / period, 2) if period > 0 else 0.0,
            "smoothing": {
                "frames": cfg["smoothing"],
                "threshold": cfg["threshold"],
                # this frame's scores before smoothing (what host_tools tune replays)
                "raw_scores": {labels[k]: round(raw[k], 8) for k in range(len(labels))},
            },
            # gc.mem_free() sums the heap's free blocks (a walk of its allocation table: tens of us on
            # the H7), for host_tools bench.
            "mem": {"heap_free": gc.mem_free()},
        }
        print(json.dumps(line))
        new_sig = config_signature()
        if new_sig != sig:
            sig = new_sig
            old = cfg
            cfg, accepted = load_config(cfg, labels, sig)
            report_reload(old, cfg, accepted, frame)
            if (cfg["pixformat"], cfg["framesize"]) != (old["pixformat"], old["framesize"]):
                snapshot = cam.open_camera(cfg["pixformat"], cfg["framesize"])
            cam.set_streaming(cfg["stream"])
            smoother.resize(cfg["smoothing"])


main()
