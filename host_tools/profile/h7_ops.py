"""The TFLite builtin ops the OpenMV firmware's TensorFlow Lite Micro build registers.

Source: openmv/openmv, lib/tflm/tflm_backend.cc, ml_backend_init_ops_resolver() (MicroMutableOpResolver<113>;
DetectionPostprocess is commented out there). The resolver also registers the TFLM signal-library custom
ops (Delay, Energy, FftAutoScale, FilterBank*, Framer, Irfft, OverlapAdd, PCAN, Rfft, Stacker, Window),
listed in CUSTOM. A model whose graph uses any other op fails on the camera when the interpreter is built.
"""

from __future__ import annotations

BUILTIN = frozenset(
    """
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND BROADCAST_ARGS
BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTH_TO_SPACE DEPTHWISE_CONV_2D DEQUANTIZE
DIV ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER GATHER_ND
GREATER GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS LESS_EQUAL LOG LOG_SOFTMAX
LOGICAL_AND LOGICAL_NOT LOGICAL_OR LOGISTIC MAX_POOL_2D MAXIMUM MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK
PAD PADV2 PRELU QUANTIZE READ_VARIABLE REDUCE_MAX RELU RELU6 RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR
ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE
SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH TRANSPOSE TRANSPOSE_CONV
UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split()
)

CUSTOM = frozenset(
    "SignalDelay SignalEnergy SignalFftAutoScale SignalFilterBank SignalFilterBankLog "
    "SignalFilterBankSpectralSubtraction SignalFilterBankSquareRoot SignalFramer SignalIrfft "
    "SignalOverlapAdd SignalPCAN SignalRfft SignalStacker SignalWindow".split()
)

SOURCE = "openmv/openmv lib/tflm/tflm_backend.cc (ml_backend_init_ops_resolver)"


def unsupported(op_names: list[str]) -> list[str]:
    """The ops of `op_names` the firmware does not register, in first-seen order."""
    out: list[str] = []
    for name in op_names:
        ok = name in BUILTIN or (name.startswith("CUSTOM:") and name[7:] in CUSTOM)
        if not ok and name not in out:
            out.append(name)
    return out
