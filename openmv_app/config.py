# config.json: validation and loading. A bad file is rejected whole, with one message per problem,
# and the app keeps running on the last good values (defaults at boot). Limits keep a hostile file from
# hurting the camera: its size is checked before it is read (the flash filesystem is 128 KB), its nesting
# before it is parsed, it must be UTF-8, and messages quote at most a short excerpt of a value.
try:
    import json
except ImportError:
    import ujson as json  # type: ignore[no-redef]

# Frame sizes the app accepts (name -> (width, height)); all are OV7725 modes of the H7.
FRAMESIZES = {
    "QQQVGA": (80, 60),
    "QQVGA": (160, 120),
    "HQVGA": (240, 160),
    "QVGA": (320, 240),
    "VGA": (640, 480),
    "B64X64": (64, 64),
    "B128X128": (128, 128),
}
PIXFORMATS = ("RGB565", "GRAYSCALE")
MAX_BYTES = 4096  # a config is a few hundred bytes
MAX_DEPTH = 4  # {"leds": {...}} and {"roi": [...]} nest 2 deep
MAX_ERRORS = 10  # messages per rejected file
EXCERPT = 40  # characters of a bad value quoted in a message
COLORS = ("off", "red", "green", "blue", "yellow", "cyan", "magenta", "white")
UNKNOWN = "unknown"  # the `leds` key for frames with no label (best smoothed score below the threshold)
MAX_SMOOTHING = 30


# Default LED colour per label, in the model's label order (model.txt): the app knows no label names itself.
PALETTE = ("green", "red", "blue", "yellow", "cyan", "magenta", "white")


def default_leds(labels):
    leds = {}
    for i in range(len(labels)):
        leds[labels[i]] = PALETTE[i % len(PALETTE)]
    leds[UNKNOWN] = "off"
    return leds


def defaults(labels=()):
    """The settings a missing config.json means, for a model with these labels."""
    return {
        "threshold": 0.6,  # best smoothed score below this -> label null
        "smoothing": 3,  # average the scores of the last N frames (1 = no smoothing)
        "roi": None,  # [x, y, w, h] in frame pixels, or null for the whole frame
        "stream": True,  # frames streamed to the host (IDE / host_tools watch)
        "leds": default_leds(labels),  # label -> colour, from the model's labels
        "framesize": "QVGA",
        "pixformat": "RGB565",
    }


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return (isinstance(v, float) or _is_int(v)) and v == v


def excerpt(v):
    """JSON text of v, cut to EXCERPT characters."""
    try:
        text = json.dumps(v)
    except Exception:
        text = str(v)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def _short(text):
    text = str(text)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def validate(obj, labels, framesizes=None):
    """Returns (config, errors): a full config (defaults filled in) when errors is empty.

    framesizes: the frame-size names the running firmware has (None: all of FRAMESIZES)."""
    errors = []
    if not isinstance(obj, dict):
        return None, ['the file must hold a JSON object, e.g. {"threshold": 0.6}']
    cfg = defaults(labels)
    for key in obj:
        if key not in cfg:
            errors.append("unknown key '%s' (known keys: %s)" % (_short(key), ", ".join(sorted(cfg))))
    v = obj.get("threshold", cfg["threshold"])
    if not _is_number(v):
        errors.append("threshold: expected a number, got %s" % excerpt(v))
    elif not 0.0 <= v <= 1.0:
        errors.append("threshold: must be between 0 and 1, got %s" % excerpt(v))
    else:
        cfg["threshold"] = float(v)
    v = obj.get("smoothing", cfg["smoothing"])
    if not _is_int(v):
        errors.append("smoothing: expected a whole number of frames, got %s" % excerpt(v))
    elif not 1 <= v <= MAX_SMOOTHING:
        errors.append("smoothing: must be from 1 to %d frames, got %d" % (MAX_SMOOTHING, v))
    else:
        cfg["smoothing"] = v
    v = obj.get("stream", cfg["stream"])
    if not isinstance(v, bool):
        errors.append("stream: expected true or false, got %s" % excerpt(v))
    else:
        cfg["stream"] = v
    v = obj.get("pixformat", cfg["pixformat"])
    if v not in PIXFORMATS:
        errors.append("pixformat: expected one of %s, got %s" % (", ".join(PIXFORMATS), excerpt(v)))
    else:
        cfg["pixformat"] = v
    v = obj.get("framesize", cfg["framesize"])
    names = sorted(FRAMESIZES) if framesizes is None else [n for n in sorted(FRAMESIZES) if n in framesizes]
    if not isinstance(v, str) or v not in FRAMESIZES:
        errors.append("framesize: expected one of %s, got %s" % (", ".join(names), excerpt(v)))
    elif v not in names:
        errors.append(
            "framesize: %s is not available on this camera's firmware (it has %s)" % (v, ", ".join(names))
        )
    else:
        cfg["framesize"] = v
    _check_roi(obj.get("roi", None), cfg, errors)
    _check_leds(obj.get("leds", None), cfg, labels, errors)
    if len(errors) > MAX_ERRORS:
        errors = errors[:MAX_ERRORS] + ["... and %d more problems" % (len(errors) - MAX_ERRORS)]
    return cfg, errors


def _check_roi(v, cfg, errors):
    if v is None:
        return
    if not isinstance(v, list) or len(v) != 4 or not all(_is_int(n) for n in v):
        errors.append("roi: expected [x, y, w, h] (4 whole numbers) or null, got %s" % excerpt(v))
        return
    x, y, w, h = v
    fw, fh = FRAMESIZES[cfg["framesize"]]
    if x < 0 or y < 0 or w < 1 or h < 1 or x + w > fw or y + h > fh:
        errors.append(
            "roi: %s is not inside the %s frame (%dx%d)" % (excerpt(v), cfg["framesize"], fw, fh)
        )
        return
    cfg["roi"] = (x, y, w, h)


def _check_leds(v, cfg, labels, errors):
    if v is None:
        return
    if not isinstance(v, dict):
        errors.append("leds: expected an object {label: color}, got %s" % excerpt(v))
        return
    known = list(labels) + [UNKNOWN]
    leds = {}
    for label in known:
        leds[label] = "off"
    bad = False
    for label in v:
        color = v[label]
        if label not in known:
            errors.append("leds: unknown label '%s' (labels: %s)" % (_short(label), ", ".join(known)))
            bad = True
        elif color not in COLORS:
            errors.append(
                "leds.%s: expected one of %s, got %s" % (label, ", ".join(COLORS), json.dumps(color))
            )
            bad = True
        else:
            leds[label] = color
    if not bad:
        cfg["leds"] = leds


def nesting(text):
    """How deep [ and { nest in JSON text (outside strings): checked before parsing, which recurses."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


def parse(data, labels, framesizes=None):
    """Returns (config, errors) for the contents of a config.json (bytes, or text already decoded)."""
    if len(data) > MAX_BYTES:
        return None, ["%d bytes is too big for a config (the limit is %d)" % (len(data), MAX_BYTES)]
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except (UnicodeError, ValueError):
            return None, ["not UTF-8 text (save the file as UTF-8)"]
    else:
        text = data
    if nesting(text) > MAX_DEPTH:
        return None, ["nested deeper than %d levels (a config nests 2)" % MAX_DEPTH]
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return None, ["not valid JSON (%s)" % _short(exc)]
    return validate(obj, labels, framesizes)
