# The classifier: `ml.Model` (firmware >= 4.5.6) or the legacy `tf` module (firmware <= 4.5.5).
#
# The firmware fits the image (or ROI) to the model's input differently per version: 4.x keeps the aspect
# ratio and crops (SCALE_ASPECT_EXPAND), firmware 5 stretches (SCALE_ASPECT_IGNORE). So the app always
# passes a centred ROI with the model's own aspect ratio: then both give the model the same input.


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def fit_roi(roi, model_w, model_h):
    """The largest centred (x, y, w, h) inside roi whose aspect ratio is exactly model_w : model_h."""
    x, y, w, h = roi
    g = _gcd(model_w, model_h)
    aw, ah = model_w // g, model_h // g
    k = min(w // aw, h // ah)
    if k >= 1:
        cw, ch = k * aw, k * ah
    elif w * model_h > h * model_w:
        cw, ch = max(1, h * model_w // model_h), h
    else:
        cw, ch = w, max(1, w * model_h // model_w)
    return (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)


class Classifier:
    def __init__(self, path):
        try:
            import ml
        except ImportError:
            ml = None
        self.api = "ml" if ml is not None else "tf"
        if ml is not None:
            self.model = ml.Model(path)
            shape = self.model.input_shape[0]
            self.input_hw = (shape[1], shape[2]) if len(shape) == 4 else None
            self.outputs = 1
            for n in self.model.output_shape[0]:
                self.outputs *= n
            try:
                from ml.preprocessing import Normalization

                self.norm = Normalization
            except ImportError:
                self.norm = None
        else:
            import tf

            self.tf = tf
            self.model = tf.load(path)
            self.input_hw = (self.model.input_height(), self.model.input_width())
            self.outputs = None  # known after the first classify()

    def scores(self, img, roi):
        """Dequantized output scores for one frame, on the ROI (None = whole frame)."""
        if roi is None:
            roi = (0, 0, img.width(), img.height())
        if self.input_hw is not None:
            roi = fit_roi(roi, self.input_hw[1], self.input_hw[0])
        if self.api == "tf":
            out = self.tf.classify(self.model, img, roi=roi)[0].output()
            return [float(v) for v in out]
        if self.norm is not None:
            arg = self.norm(roi=roi)(img)
        else:
            arg = img.copy(roi=roi)
        out = self.model.predict([arg])[0]
        return [float(v) for v in out.flatten()]
