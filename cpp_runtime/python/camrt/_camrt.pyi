"""
camrt: the camera runtime (crop planner, fused preprocessing, voter, config, pipeline)
"""

from collections.abc import Callable, Sequence
from typing import Annotated, overload

import numpy
from numpy.typing import NDArray


class FrameTooSmall(ValueError):
    pass

class Rect:
    """A rectangle in frame pixels; x, y: the top-left corner."""

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, x: int, y: int, w: int, h: int) -> None: ...

    @property
    def x(self) -> int: ...

    @x.setter
    def x(self, arg: int, /) -> None: ...

    @property
    def y(self) -> int: ...

    @y.setter
    def y(self, arg: int, /) -> None: ...

    @property
    def w(self) -> int: ...

    @w.setter
    def w(self, arg: int, /) -> None: ...

    @property
    def h(self) -> int: ...

    @h.setter
    def h(self, arg: int, /) -> None: ...

    def astuple(self) -> tuple[int, int, int, int]: ...

    def __eq__(self, arg: object, /) -> bool: ...

    def __repr__(self) -> str: ...

class TensorInfo:
    """The model input: uint8 NHWC, rows w_stride pixels apart."""

    @property
    def height(self) -> int: ...

    @property
    def width(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def w_stride(self) -> int: ...

MAX_SIDE: int = 16384

def plan_crops(frame_w: int, frame_h: int, n_crops: int, model_w: int, model_h: int) -> list[Rect]:
    """
    Square crops along the long side (see planner.hpp); FrameTooSmall for a frame below the model input.
    """

def frame_address(frame: Annotated[NDArray[numpy.uint8], dict(device='cpu', writable=False)], fmt: str) -> int:
    """
    Address of the pixels the C++ side reads (equals the array's: no copy).
    """

def preprocess_kernels() -> str:
    """
    The preprocessing kernels of this build: 'sse2', 'neon' or 'scalar' (all give the same bytes).
    """

def crop_resize(frame: Annotated[NDArray[numpy.uint8], dict(device='cpu', writable=False)], fmt: str, crop: Rect | Sequence[int], out: Annotated[NDArray[numpy.uint8], dict(device='cpu')], order: str = 'RGB') -> None:
    """
    Fused crop + bilinear resize + colour conversion of `frame` (RGB888, BGR888, NV12, YUYV) into `out`.
    """

def preprocess(frame: Annotated[NDArray[numpy.uint8], dict(device='cpu', writable=False)], fmt: str, crop: Rect | Sequence[int], width: int, height: int, order: str = 'RGB') -> Annotated[NDArray[numpy.uint8], dict(shape=(None, None, None))]:
    """crop_resize into a new (height, width, 3) uint8 array."""

@overload
def dequantize(q: Annotated[NDArray[numpy.int8], dict(shape=(None,), order='C', writable=False)], zero_point: int, scale: float) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
    """(q - zero_point) * scale as float32."""

@overload
def dequantize(q: Annotated[NDArray[numpy.uint8], dict(shape=(None,), order='C', writable=False)], zero_point: int, scale: float) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]: ...

def softmax(logits: Annotated[NDArray[numpy.float32], dict(shape=(None,), order='C', writable=False)]) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
    """Numerically stable softmax (float32)."""

class ConfigError(ValueError):
    pass

class Config:
    """A validated config (read-only); see config.hpp for the keys."""

    @property
    def labels(self) -> list[str]: ...

    @property
    def thresholds(self) -> list[float]: ...

    @property
    def penalty(self) -> float: ...

    @property
    def k(self) -> int: ...

    @property
    def n_crops(self) -> int: ...

    @property
    def hysteresis(self) -> int: ...

    @property
    def fallback(self) -> int:
        """label index or -1"""

    @property
    def fallback_label(self) -> str | None: ...

    @property
    def softmax(self) -> bool: ...

    @property
    def color_order(self) -> str: ...

    @property
    def output_port(self) -> int: ...

    @property
    def model(self) -> str: ...

    @property
    def max_fps(self) -> float: ...

    def label_index(self, label: str) -> int: ...

    def to_json(self) -> str: ...

    def __repr__(self) -> str: ...

MAX_CONFIG_BYTES: int = 65536

class ModelManifest:
    """
    A model's labels and colour order, as the board reads them beside the model.
    """

    @property
    def labels(self) -> list[str]: ...

    @property
    def color_order(self) -> str: ...

    @property
    def source(self) -> str: ...

def parse_manifest(text: str, source: str) -> ModelManifest:
    """
    Parse a model manifest (the model card's format: labels, input.colour_order); ConfigError naming `source`.
    """

def manifest_path_for(model: str) -> str:
    """
    Where a model's manifest is: its extension replaced by .json (model/model.rknn -> model/model.json).
    """

def parse_config(text: str, manifest: ModelManifest | None = None) -> Config:
    """
    Parse + validate JSON text; ConfigError on any problem (text above MAX_CONFIG_BYTES included).
    With the model's manifest, labels and color_order may be omitted; a config that contradicts it is
    refused, naming both values.
    """

def load_config(path: str, manifest: str = '') -> Config:
    """
    Read (at most MAX_CONFIG_BYTES, checked before reading) and parse a config file; ConfigError.
    The model manifest: `manifest`, else the file beside the model the config names (absent: none).
    """

def check_model_classes(config: Config, model_classes: int) -> None:
    """ConfigError when the label count differs from the model's outputs."""

def install_sighup_handler() -> None:
    """
    SIGHUP then only raises the reload flag that ConfigWatcher.poll() consumes.
    """

def raise_reload_flag() -> None: ...

class ConfigWatcher:
    def __init__(self, path: str, model_classes: int = 0, log: object | None = None, settle_ms: float = 100.0, manifest: str = '') -> None:
        """
        Loads `path` (ConfigError if bad). log(line) gets reload/rejection lines (default: stderr).
        A changed file is read once its mtime/size/inode held for settle_ms across polls.
        """

    def poll(self) -> bool:
        """True when a new config was accepted."""

    def request_reload(self) -> None: ...

    @property
    def config(self) -> Config:
        """A copy of the config in force."""

    @property
    def path(self) -> str: ...

    @property
    def last_error(self) -> str: ...

    @property
    def generation(self) -> int: ...

class VoteWhy:
    @property
    def candidate(self) -> int: ...

    @property
    def votes(self) -> int: ...

    @property
    def need(self) -> int: ...

    @property
    def penalty(self) -> float: ...

    @property
    def score(self) -> float: ...

    @property
    def threshold(self) -> float: ...

    @property
    def hysteresis(self) -> int: ...

    @property
    def pending(self) -> int: ...

    @property
    def pending_count(self) -> int: ...

class Vote:
    @property
    def decision(self) -> int: ...

    @property
    def score(self) -> float: ...

    @property
    def raw_decision(self) -> int: ...

    @property
    def raw_score(self) -> float: ...

    @property
    def crop_votes(self) -> list[int]: ...

    @property
    def mean(self) -> list[float]: ...

    @property
    def why(self) -> VoteWhy: ...

class Voter:
    def __init__(self, thresholds: Sequence[float], penalty: float = 0.1, k: int = 2, hysteresis: int = 0, fallback: int = -1) -> None: ...

    @staticmethod
    def from_config(config: Config) -> Voter: ...

    def vote(self, scores: object) -> Vote:
        """scores: (n_crops, n_classes) probabilities. Rule in voter.hpp."""

    def reset(self) -> None: ...

def monotonic_ns() -> int:
    """CLOCK_MONOTONIC in nanoseconds (64-bit)."""

class Engine:
    """
    A model the pipeline runs (the board's RKNN engine, or CallableEngine).
    """

    @property
    def input_info(self) -> TensorInfo: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def name(self) -> str: ...

class CallableEngine(Engine):
    def __init__(self, fn: Callable, height: int, width: int, num_classes: int, channels: int = 3, w_stride: int = 0) -> None:
        """
        fn(input: uint8 (height, width, channels) view of the input buffer) -> num_classes float scores
        """

    def input_view(self) -> Annotated[NDArray[numpy.uint8], dict(shape=(None, None, None))]:
        """The input buffer as a numpy view (no copy)."""

    @property
    def input_address(self) -> int: ...

    def run(self) -> None: ...

    @property
    def scores(self) -> list[float]: ...

class StageTimes:
    @property
    def capture(self) -> float: ...

    @property
    def preprocess(self) -> float: ...

    @property
    def inference(self) -> float: ...

    @property
    def postprocess(self) -> float: ...

    @property
    def total(self) -> float: ...

class CropResult:
    @property
    def rect(self) -> Rect: ...

    @property
    def scores(self) -> list[float]: ...

    @property
    def vote(self) -> int: ...

class FrameResult:
    @property
    def frame(self) -> int: ...

    @property
    def decision(self) -> int: ...

    @property
    def score(self) -> float: ...

    @property
    def raw_decision(self) -> int: ...

    @property
    def raw_score(self) -> float: ...

    @property
    def mean(self) -> list[float]: ...

    @property
    def dropped(self) -> int:
        """frames the source skipped so far (set by the caller)"""

    @dropped.setter
    def dropped(self, arg: int, /) -> None: ...

    @property
    def crops(self) -> list[CropResult]: ...

    @property
    def vote(self) -> VoteWhy: ...

    @property
    def ms(self) -> StageTimes: ...

    @property
    def fps(self) -> float: ...

    @fps.setter
    def fps(self, arg: float, /) -> None: ...

def to_json_line(result: FrameResult, labels: Sequence[str]) -> str:
    """
    The board's output line for one frame (format in result.hpp / cpp_runtime/README.md).
    """

class Pipeline:
    def __init__(self, engine: Engine, config: Config) -> None:
        """Checks the config's labels against engine.num_classes (ConfigError)."""

    def set_config(self, config: Config) -> None: ...

    @property
    def config(self) -> Config: ...

    def process(self, frame: Annotated[NDArray[numpy.uint8], dict(device='cpu', writable=False)], fmt: str, frame_index: int = 0, capture_ms: float = 0.0) -> FrameResult: ...

    def json_line(self, result: FrameResult) -> str: ...
