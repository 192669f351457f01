"""`ml.preprocessing` (with `ml`).  # firmware >= 4.5.6"""

from typing import Any

from image import Image

class Normalization:
    def __init__(self, scale: tuple[float, float] = ..., mean: tuple[float, float, float] = ...,
                 stdev: tuple[float, float, float] = ...,
                 roi: tuple[int, int, int, int] | None = ...) -> None: ...
    def __call__(self, img: Image) -> Normalization: ...
    def tensor(self, *args: Any) -> Any: ...
