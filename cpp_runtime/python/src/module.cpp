// The extension module camrt._camrt (the camrt package's __init__.py re-exports it): bindings of the camrt
// runtime, one file per topic. Frames are read in place (no copy); the model is a Python callable wrapped
// as a camrt::Engine, so the host drives the same C++ pipeline as the board.
#include "bindings.hpp"
#include "camrt/planner.hpp"

NB_MODULE(_camrt, m) {
    namespace nb = nanobind;
    m.doc() = "camrt: the camera runtime (crop planner, fused preprocessing, voter, config, pipeline)";
    nb::exception<camrt::FrameTooSmall>(m, "FrameTooSmall", PyExc_ValueError);
    camrt_py::bind_frames(m);
    camrt_py::bind_quant(m);
    camrt_py::bind_config(m);
    camrt_py::bind_voter(m);
    camrt_py::bind_pipeline(m);
}
