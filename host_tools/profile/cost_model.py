"""The ESTIMATED inference latency of a model on a board, from a per-operator cost model.

Every figure this module gives is an estimate, labelled as such wherever it is shown: it is what the model
predicts from the graph, not a measurement.

Cortex-M7 (OpenMV H7, TFLite Micro with CMSIS-NN kernels):
    cycles = CYCLES_PER_MAC x MACs (conv, depthwise, dense) + CYCLES_PER_LAYER x layers
           + CYCLES_PER_ELEMENT x output elements of the other layers (pooling, add, softmax...)
    ms = cycles / clock. The two first coefficients are a least-squares fit to published figures
    (M7_POINTS); CYCLES_PER_ELEMENT is fixed at 4 (an int8 elementwise kernel: load, requantise, store).
RV1103 NPU (0.5 TOPS int8):
    ms = MACs / (NPU_EFFICIENCY x 0.25 T MAC/s) + NPU_MS_PER_LAYER x layers
    fitted to the one published RV1106 figure (RV_POINTS): one point, so the fit reproduces it exactly and
    the model has NO measured error bar; treat it as an order of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from host_tools.profile.graph import OTHER, Graph

ESTIMATE = "ESTIMATE"  # the label every estimated figure carries


@dataclass(frozen=True)
class CalibrationPoint:
    name: str
    macs: float
    layers: int
    ms: float
    clock_mhz: float
    source: str


# Published Cortex-M7 figures (all int8). MAC counts are the publications' own.
M7_POINTS = (
    CalibrationPoint(
        "ResNet-9 64x64 (Lightly/Arm EndpointAI) on an OpenMV H7",
        16.7e6,
        17,
        150.0 / 4,
        480,
        "150 ms on firmware 3.6.4, before CMSIS-NN kernels, which OpenMV reported as 4x faster: 37.5 ms",
    ),
    CalibrationPoint(
        "MLPerf Tiny v1.0 image classification ResNet-8 (12.5 M MACs), STM32H7A3",
        12.5e6,
        15,
        54.3,
        280,
        "MLPerf Tiny v1.0 results, Cortex-M7 at 280 MHz, X-CUBE-AI",
    ),
    CalibrationPoint(
        "MLPerf Tiny v1.0 visual wake words MobileNetV1 0.25 (7.5 M MACs), STM32H7A3",
        7.5e6,
        31,
        50.7,
        280,
        "MLPerf Tiny v1.0 results, Cortex-M7 at 280 MHz, X-CUBE-AI",
    ),
)
RV_POINTS = (
    CalibrationPoint(
        "MobileNetV1 int8 224x224 (569 M MACs) on an RV1106 (Luckfox Pico Ultra)",
        569e6,
        28,
        9.5,
        0,
        "about 9-10 ms per rknn_run, single runs (Luckfox / rknn_model_zoo write-ups)",
    ),
)
CYCLES_PER_ELEMENT = 4.0
BOARD_CLOCK_MHZ = {"h7": 480.0, "h7plus": 480.0}
NPU_MACS_PER_S = 0.5e12 / 2  # 0.5 TOPS = 0.25 T multiply-accumulates per second


def _fit_m7() -> tuple[float, float]:
    a = np.array([[p.macs, p.layers] for p in M7_POINTS])
    b = np.array([p.ms * 1e-3 * p.clock_mhz * 1e6 for p in M7_POINTS])
    (c_mac, c_layer), *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(c_mac), float(max(c_layer, 0.0))


CYCLES_PER_MAC, CYCLES_PER_LAYER = _fit_m7()
_rv = RV_POINTS[0]
NPU_MS_PER_LAYER = 0.05  # stated, not fitted: a per-layer launch cost of the NPU driver (one point fits one)
NPU_EFFICIENCY = _rv.macs / NPU_MACS_PER_S / ((_rv.ms - NPU_MS_PER_LAYER * _rv.layers) * 1e-3)


@dataclass(frozen=True)
class Estimate:
    board: str
    ms: float
    label: str
    model: str  # the formula in words
    calibration: list[dict]  # each point: name, published ms, model's ms, error %, source
    mean_abs_error_pct: float | None  # over the calibration points (None: no independent error)

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "board": self.board,
            "inference_ms": round(self.ms, 3),
            "model": self.model,
            "calibration": self.calibration,
            "mean_abs_error_pct": self.mean_abs_error_pct,
        }


def _m7_ms(macs: float, layers: int, elements: float, clock_mhz: float) -> float:
    cycles = CYCLES_PER_MAC * macs + CYCLES_PER_LAYER * layers + CYCLES_PER_ELEMENT * elements
    return cycles / (clock_mhz * 1e6) * 1e3


def _npu_ms(macs: float, layers: int) -> float:
    return macs / (NPU_EFFICIENCY * NPU_MACS_PER_S) * 1e3 + NPU_MS_PER_LAYER * layers


def estimate(graph: Graph, board: str) -> Estimate:
    macs = graph.macs
    layers = len(graph.layers)
    elements = sum(float(np.prod(x.output_shape)) for x in graph.layers if x.kind == OTHER and x.output_shape)
    if board == "rv1103":
        ms = _npu_ms(macs, layers)
        cal = [
            {
                "name": p.name,
                "published_ms": p.ms,
                "model_ms": round(_npu_ms(p.macs, p.layers), 2),
                "error_pct": round((_npu_ms(p.macs, p.layers) - p.ms) / p.ms * 100, 1),
                "source": p.source,
            }
            for p in RV_POINTS
        ]
        words = (
            f"MACs / ({NPU_EFFICIENCY:.2f} x 0.25 T MAC/s) + {NPU_MS_PER_LAYER} ms x layers "
            "(NPU only; ops that fall back to the CPU are not modelled)"
        )
        return Estimate(board, ms, ESTIMATE, words, cal, None)
    clock = BOARD_CLOCK_MHZ.get(board, 480.0)
    ms = _m7_ms(macs, layers, elements, clock)
    cal = []
    for p in M7_POINTS:
        got = _m7_ms(p.macs, p.layers, 0.0, p.clock_mhz)
        cal.append(
            {
                "name": p.name,
                "published_ms": round(p.ms, 2),
                "model_ms": round(got, 2),
                "error_pct": round((got - p.ms) / p.ms * 100, 1),
                "source": p.source,
            }
        )
    err = float(np.mean([abs(c["error_pct"]) for c in cal]))
    words = (
        f"({CYCLES_PER_MAC:.3f} cycles x MACs + {CYCLES_PER_LAYER:.0f} cycles x layers + "
        f"{CYCLES_PER_ELEMENT:.0f} cycles x other layers' output elements) / {clock:.0f} MHz"
    )
    return Estimate(board, ms, ESTIMATE, words, cal, round(err, 1))
