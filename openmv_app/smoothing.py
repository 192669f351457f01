# Moving average of the score vectors of the last N frames.


class Smoother:
    def __init__(self, n):
        self.n = n
        self.rows = []

    def resize(self, n):
        if n != self.n:
            self.n = n
            self.rows = self.rows[-n:]

    def push(self, scores):
        """Adds one frame's scores; returns the per-class mean over the last n frames."""
        self.rows.append(list(scores))
        if len(self.rows) > self.n:
            self.rows.pop(0)
        count = len(self.rows)
        return [sum(r[i] for r in self.rows) / count for i in range(len(scores))]
