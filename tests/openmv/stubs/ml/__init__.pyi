"""`ml` (firmware 4.5.6 and later; 4.5.5 has the legacy `tf` instead).  # firmware >= 4.5.6"""

from typing import Any

from . import preprocessing as preprocessing

class Model:
    len: int
    ram: int
    labels: list[str] | None
    input_shape: list[tuple[int, ...]]
    input_dtype: list[str]
    input_scale: list[float]
    input_zero_point: list[int]
    output_shape: list[tuple[int, ...]]
    output_dtype: list[str]
    output_scale: list[float]
    output_zero_point: list[int]
    def __init__(self, path: str, load_to_fb: bool = ...) -> None: ...
    def predict(self, args: list[Any], callback: Any = ...) -> list[Any]: ...
