// The engine and the pipeline: Engine, CallableEngine (a Python callable as the model), StageTimes,
// CropResult, FrameResult, to_json_line, Pipeline, monotonic_ns.
#include "camrt/pipeline.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <vector>

#include "bindings.hpp"
#include "camrt/clock.hpp"
#include "camrt/config.hpp"
#include "camrt/engine.hpp"
#include "camrt/result.hpp"

namespace camrt_py {

using namespace nb::literals;

namespace {

// An Engine whose model is a Python callable: fn(input) -> scores, where input is a uint8
// (height, width, channels) numpy VIEW of the engine's input buffer (rows w_stride pixels apart) and
// scores is anything numpy turns into a 1-D float array of num_classes values.
class CallableEngine : public camrt::Engine {
   public:
    CallableEngine(nb::callable fn, int height, int width, int num_classes, int channels, int w_stride)
        : fn_(std::move(fn)), n_classes_(num_classes) {
        if (w_stride == 0) w_stride = width;
        if (w_stride < width) {
            value_error("w_stride " + std::to_string(w_stride) + " is below the width " + std::to_string(width));
        }
        info_ = camrt::TensorInfo{height, width, channels, w_stride};
        buf_.assign(info_.size_bytes(), 0);
    }
    camrt::TensorInfo input_info() const override { return info_; }
    std::uint8_t* input_buffer() override { return buf_.data(); }
    const std::vector<float>& scores() const override { return scores_; }
    int num_classes() const override { return n_classes_; }
    std::string name() const override { return "python"; }

    nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<3>> input_view() {
        // Owner = this engine's Python object: a view kept by the callable keeps the buffer alive.
        const int64_t c = info_.channels;
        return nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<3>>(
            buf_.data(), {static_cast<size_t>(info_.height), static_cast<size_t>(info_.width), static_cast<size_t>(c)},
            nb::find(this), {info_.w_stride * c, c, 1});
    }

    void run() override {
        // The pipeline runs without the GIL; the callable needs it.
        nb::gil_scoped_acquire gil;
        if (!fn_.is_valid()) throw std::runtime_error("python engine: the callable was cleared");
        try {
            nb::object out = fn_(input_view());
            nb::object arr =
                nb::module_::import_("numpy").attr("asarray")(out, "dtype"_a = "float32").attr("reshape")(-1);
            auto a = nb::cast<nb::ndarray<const float, nb::ndim<1>, nb::device::cpu>>(arr);
            if (static_cast<std::int64_t>(a.shape(0)) != n_classes_) {
                throw std::runtime_error("python engine returned " + std::to_string(a.shape(0)) + " scores, expected " +
                                         std::to_string(n_classes_));
            }
            scores_.resize(a.shape(0));
            for (size_t i = 0; i < a.shape(0); ++i) scores_[i] = a(i);
        } catch (nb::python_error& e) {
            // Turned into a plain C++ error here, while the GIL is held, so it can cross the GIL-free pipeline.
            std::string what = nb::cast<std::string>(nb::handle(e.type()).attr("__name__"));
            what += ": " + nb::cast<std::string>(nb::str(e.value()));
            throw std::runtime_error("python engine callable failed: " + what);
        }
    }

    // The callable often refers back to the engine (through a module's globals): let Python's cycle
    // collector see and break that reference.
    static int traverse(PyObject* self, visitproc visit, void* arg) {
        Py_VISIT(Py_TYPE(self));
        if (!nb::inst_ready(self)) return 0;
        Py_VISIT(nb::inst_ptr<CallableEngine>(self)->fn_.ptr());
        return 0;
    }
    static int clear(PyObject* self) {
        nb::inst_ptr<CallableEngine>(self)->fn_ = nb::callable();
        return 0;
    }

   private:
    nb::callable fn_;
    int n_classes_;
    camrt::TensorInfo info_;
    std::vector<std::uint8_t> buf_;
    std::vector<float> scores_;
};

PyType_Slot engine_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(&CallableEngine::traverse)},
                              {Py_tp_clear, reinterpret_cast<void*>(&CallableEngine::clear)},
                              {0, nullptr}};

// Pipeline holding a Python reference to its engine (instead of keep_alive, which the cycle collector
// cannot see: an engine callable defined in a module refers back to the module that holds the pipeline).
class PyPipeline : public camrt::Pipeline {
   public:
    PyPipeline(nb::object engine, camrt::Config cfg)
        : camrt::Pipeline(nb::cast<camrt::Engine&>(engine), std::move(cfg)), engine_obj_(std::move(engine)) {}
    static int traverse(PyObject* self, visitproc visit, void* arg) {
        Py_VISIT(Py_TYPE(self));
        if (!nb::inst_ready(self)) return 0;
        Py_VISIT(nb::inst_ptr<PyPipeline>(self)->engine_obj_.ptr());
        return 0;
    }
    // Only called on unreachable cycles: the pipeline is never used again, and its destructor does not
    // touch the engine.
    static int clear(PyObject* self) {
        nb::inst_ptr<PyPipeline>(self)->engine_obj_ = nb::none();
        return 0;
    }

   private:
    nb::object engine_obj_;
};

PyType_Slot pipeline_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(&PyPipeline::traverse)},
                                {Py_tp_clear, reinterpret_cast<void*>(&PyPipeline::clear)},
                                {0, nullptr}};

}  // namespace

void bind_pipeline(nb::module_& m) {
    m.def("monotonic_ns", &camrt::monotonic_ns, "CLOCK_MONOTONIC in nanoseconds (64-bit).");

    nb::class_<camrt::Engine>(m, "Engine", "A model the pipeline runs (the board's RKNN engine, or CallableEngine).")
        .def_prop_ro("input_info", [](const camrt::Engine& e) { return e.input_info(); })
        .def_prop_ro("num_classes", [](const camrt::Engine& e) { return e.num_classes(); })
        .def_prop_ro("name", [](const camrt::Engine& e) { return e.name(); });
    nb::class_<CallableEngine, camrt::Engine>(m, "CallableEngine", nb::type_slots(engine_slots))
        .def(
            "__init__",
            [](CallableEngine* e, nb::callable fn, std::int64_t height, std::int64_t width, std::int64_t num_classes,
               std::int64_t channels, std::int64_t w_stride) {
                new (e) CallableEngine(
                    std::move(fn), checked_int(height, 1, camrt::kMaxSide, "height"),
                    checked_int(width, 1, camrt::kMaxSide, "width"), checked_int(num_classes, 1, 100000, "num_classes"),
                    checked_int(channels, 1, 16, "channels"), checked_int(w_stride, 0, camrt::kMaxSide, "w_stride"));
            },
            "fn"_a, "height"_a, "width"_a, "num_classes"_a, "channels"_a = 3, "w_stride"_a = 0,
            "fn(input: uint8 (height, width, channels) view of the input buffer) -> num_classes float scores")
        .def("input_view", &CallableEngine::input_view, "The input buffer as a numpy view (no copy).")
        .def_prop_ro("input_address",
                     [](CallableEngine& e) { return reinterpret_cast<std::uintptr_t>(e.input_buffer()); })
        .def("run", [](CallableEngine& e) { e.run(); })
        .def_prop_ro("scores", [](const CallableEngine& e) { return e.scores(); });

    nb::class_<camrt::StageTimes>(m, "StageTimes")
        .def_ro("capture", &camrt::StageTimes::capture)
        .def_ro("preprocess", &camrt::StageTimes::preprocess)
        .def_ro("inference", &camrt::StageTimes::inference)
        .def_ro("postprocess", &camrt::StageTimes::postprocess)
        .def_ro("total", &camrt::StageTimes::total);
    nb::class_<camrt::CropResult>(m, "CropResult")
        .def_ro("rect", &camrt::CropResult::rect)
        .def_ro("scores", &camrt::CropResult::scores)
        .def_ro("vote", &camrt::CropResult::vote);
    nb::class_<camrt::FrameResult>(m, "FrameResult")
        .def_ro("frame", &camrt::FrameResult::frame)
        .def_ro("decision", &camrt::FrameResult::decision)
        .def_ro("score", &camrt::FrameResult::score)
        .def_ro("raw_decision", &camrt::FrameResult::raw_decision)
        .def_ro("raw_score", &camrt::FrameResult::raw_score)
        .def_ro("mean", &camrt::FrameResult::mean)
        .def_rw("dropped", &camrt::FrameResult::dropped, "frames the source skipped so far (set by the caller)")
        .def_ro("crops", &camrt::FrameResult::crops)
        .def_ro("vote", &camrt::FrameResult::vote)
        .def_ro("ms", &camrt::FrameResult::ms)
        .def_rw("fps", &camrt::FrameResult::fps);
    m.def("to_json_line", &camrt::to_json_line, "result"_a, "labels"_a,
          "The board's output line for one frame (format in result.hpp / cpp_runtime/README.md).");

    nb::class_<PyPipeline>(m, "Pipeline", nb::type_slots(pipeline_slots))
        .def(
            "__init__",
            [](PyPipeline* p, camrt::Engine& engine, const camrt::Config& cfg) {
                new (p) PyPipeline(nb::find(&engine), cfg);
            },
            "engine"_a, "config"_a, "Checks the config's labels against engine.num_classes (ConfigError).")
        .def(
            "set_config", [](PyPipeline& p, const camrt::Config& c) { p.set_config(c); }, "config"_a)
        .def_prop_ro("config", [](const PyPipeline& p) { return camrt::Config(p.config()); })
        .def(
            "process",
            [](PyPipeline& p, U8Array frame, const std::string& fmt, std::uint64_t frame_index, double capture_ms) {
                const camrt::FrameView f = frame_view(frame, fmt);
                nb::gil_scoped_release release;  // the engine callable takes it back while it runs
                return p.process(f, frame_index, capture_ms);
            },
            "frame"_a.noconvert(), "fmt"_a, "frame_index"_a = 0, "capture_ms"_a = 0.0)
        .def(
            "json_line", [](const PyPipeline& p, const camrt::FrameResult& r) { return p.json_line(r); }, "result"_a);
}

}  // namespace camrt_py
