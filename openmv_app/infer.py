# The classifier: `ml.Model` (firmware >= 4.5.6) or the legacy `tf` module (firmware <= 4.5.5).


class Classifier:
    def __init__(self, path):
        try:
            import ml
        except ImportError:
            ml = None
        self.api = "ml" if ml is not None else "tf"
        if ml is not None:
            self.model = ml.Model(path)
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
            self.outputs = None  # known after the first classify()

    def scores(self, img, roi):
        """Dequantized output scores for one frame, on the ROI (None = whole frame)."""
        if self.api == "tf":
            if roi is None:
                out = self.tf.classify(self.model, img)[0].output()
            else:
                out = self.tf.classify(self.model, img, roi=roi)[0].output()
            return [float(v) for v in out]
        if roi is None:
            arg = img
        elif self.norm is not None:
            arg = self.norm(roi=roi)(img)
        else:
            arg = img.copy(roi=roi)
        out = self.model.predict([arg])[0]
        return [float(v) for v in out.flatten()]
