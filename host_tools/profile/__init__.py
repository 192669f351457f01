"""`host_tools profile`: what a model costs on a board, read from the model file without a board.

graph_tflite.py  per-layer MACs, parameters and activation bytes of a .tflite (the OpenMV H7)
graph_onnx.py    the same for an ONNX graph (the RV1103: its .rknn's ONNX twin)
h7_ops.py        the ops the OpenMV firmware's TFLite Micro build registers
rknn_npu.py      the RV1103 NPU's documented limits, and a .rknn's tensors from its model card
cost_model.py    the ESTIMATED board latency, with the published figures it is calibrated on
report.py        one Profile for a model and a board (what the command, bench and flash show)
"""
