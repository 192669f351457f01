// Python bindings of the camrt runtime (module `camrt`). Frames are read in place (no copy); the model
// is a Python callable wrapped as a camrt::Engine, so the host drives the same C++ pipeline as the board.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <string>
#include <vector>

#include "camrt/camrt.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using U8Array = nb::ndarray<const std::uint8_t, nb::device::cpu>;
using U8Out = nb::ndarray<std::uint8_t, nb::device::cpu>;

[[noreturn]] void value_error(const std::string& msg) { throw nb::value_error(msg.c_str()); }

std::string shape_str(const U8Array& a) {
    std::string s = "(";
    for (size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// A FrameView over the numpy array's own memory; refuses (never copies) layouts it cannot read in place.
//   RGB888/BGR888: (H, W, 3), pixels packed, any positive row stride.
//   NV12:          (H * 3 / 2, W), the Y rows followed by the UV rows, any positive row stride.
//   YUYV:          (H, 2 * W) or (H, W, 2), packed rows, any positive row stride.
camrt::FrameView frame_view(const U8Array& a, const std::string& fmt_name) {
    camrt::FrameView f;
    try {
        f.format = camrt::pixel_format_from_string(fmt_name);
    } catch (const std::invalid_argument& e) {
        value_error(e.what());
    }
    f.data = a.data();
    const std::string what = fmt_name + " frame of shape " + shape_str(a);
    if (a.ndim() >= 1 && a.shape(0) > 0 && a.stride(0) <= 0) value_error(what + ": rows must have a positive stride");
    switch (f.format) {
        case camrt::PixelFormat::RGB888:
        case camrt::PixelFormat::BGR888:
            if (a.ndim() != 3 || a.shape(2) != 3) value_error(what + ": expected (height, width, 3)");
            if (a.stride(2) != 1 || a.stride(1) != 3) {
                value_error(what + ": pixels must be packed (strides (*, 3, 1)); pass np.ascontiguousarray(frame)");
            }
            f.height = static_cast<int>(a.shape(0));
            f.width = static_cast<int>(a.shape(1));
            f.stride = static_cast<int>(a.stride(0));
            break;
        case camrt::PixelFormat::NV12:
            if (a.ndim() != 2 || a.shape(0) % 3 != 0) value_error(what + ": expected (height * 3 / 2, width)");
            if (a.stride(1) != 1) value_error(what + ": rows must be contiguous");
            f.height = static_cast<int>(a.shape(0) / 3 * 2);
            f.width = static_cast<int>(a.shape(1));
            f.stride = static_cast<int>(a.stride(0));
            f.uv = f.data + static_cast<size_t>(f.stride) * f.height;
            f.uv_stride = f.stride;
            break;
        case camrt::PixelFormat::YUYV:
            if (a.ndim() == 2) {
                if (a.stride(1) != 1 || a.shape(1) % 2 != 0) value_error(what + ": expected (height, 2 * width)");
                f.width = static_cast<int>(a.shape(1) / 2);
            } else if (a.ndim() == 3 && a.shape(2) == 2) {
                if (a.stride(2) != 1 || a.stride(1) != 2) value_error(what + ": pixels must be packed");
                f.width = static_cast<int>(a.shape(1));
            } else {
                value_error(what + ": expected (height, 2 * width) or (height, width, 2)");
            }
            f.height = static_cast<int>(a.shape(0));
            f.stride = static_cast<int>(a.stride(0));
            break;
    }
    try {
        camrt::validate_frame(f);
    } catch (const std::invalid_argument& e) {
        value_error(what + ": " + e.what());
    }
    return f;
}

camrt::Rect to_rect(nb::handle h) {
    if (nb::isinstance<camrt::Rect>(h)) return nb::cast<camrt::Rect>(h);
    auto v = nb::cast<std::vector<int>>(h);
    if (v.size() != 4) value_error("a crop is a camrt.Rect or (x, y, w, h)");
    return camrt::Rect{v[0], v[1], v[2], v[3]};
}

camrt::ColorOrder to_order(const std::string& s) {
    try {
        return camrt::color_order_from_string(s);
    } catch (const std::invalid_argument& e) {
        value_error(e.what());
    }
}

// An Engine whose model is a Python callable: fn(input) -> scores, where input is a uint8
// (height, width, channels) numpy VIEW of the engine's input buffer (rows w_stride pixels apart) and
// scores is anything numpy turns into a 1-D float array of num_classes values.
class CallableEngine : public camrt::Engine {
   public:
    CallableEngine(nb::callable fn, int height, int width, int num_classes, int channels, int w_stride)
        : fn_(std::move(fn)), n_classes_(num_classes) {
        if (height <= 0 || width <= 0 || channels <= 0) value_error("engine input size must be positive");
        if (num_classes <= 0) value_error("num_classes must be positive");
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
            if (static_cast<int>(a.shape(0)) != n_classes_) {
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

// ConfigWatcher whose log goes to a Python callable, held where the cycle collector can see it.
class PyConfigWatcher : public camrt::ConfigWatcher {
   public:
    PyConfigWatcher(const std::string& path, int model_classes, nb::object log)
        : camrt::ConfigWatcher(path, model_classes, log.is_none() ? Logger() : Logger([this](const std::string& line) {
                                   nb::gil_scoped_acquire gil;
                                   if (log_.is_valid() && !log_.is_none()) log_(line);
                               })),
          log_(std::move(log)) {}
    static int traverse(PyObject* self, visitproc visit, void* arg) {
        Py_VISIT(Py_TYPE(self));
        if (!nb::inst_ready(self)) return 0;
        Py_VISIT(nb::inst_ptr<PyConfigWatcher>(self)->log_.ptr());
        return 0;
    }
    static int clear(PyObject* self) {
        nb::inst_ptr<PyConfigWatcher>(self)->log_ = nb::none();
        return 0;
    }

   private:
    nb::object log_;
};

PyType_Slot watcher_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(&PyConfigWatcher::traverse)},
                               {Py_tp_clear, reinterpret_cast<void*>(&PyConfigWatcher::clear)},
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

template <typename T>
nb::ndarray<nb::numpy, float, nb::ndim<1>> dequant_impl(const nb::ndarray<const T, nb::ndim<1>, nb::c_contig>& q,
                                                        int zero_point, float scale) {
    const size_t n = q.shape(0);
    float* out = new float[n];
    nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<float*>(p); });
    camrt::dequantize(q.data(), n, zero_point, scale, out);
    return nb::ndarray<nb::numpy, float, nb::ndim<1>>(out, {n}, owner);
}

std::vector<std::vector<float>> scores_from(nb::handle h) {
    return nb::cast<std::vector<std::vector<float>>>(
        nb::module_::import_("numpy").attr("asarray")(h, "dtype"_a = "float32").attr("tolist")());
}

nb::object label_or_none(const camrt::Config& c, int idx) {
    if (idx < 0 || idx >= static_cast<int>(c.labels.size())) return nb::none();
    return nb::str(c.labels[idx].c_str());
}

}  // namespace

NB_MODULE(camrt, m) {
    m.doc() = "camrt: the camera runtime (crop planner, fused preprocessing, voter, config, pipeline)";

    nb::exception<camrt::ConfigError>(m, "ConfigError", PyExc_ValueError);
    nb::exception<camrt::FrameTooSmall>(m, "FrameTooSmall", PyExc_ValueError);

    m.def("monotonic_ns", &camrt::monotonic_ns, "CLOCK_MONOTONIC in nanoseconds (64-bit).");

    nb::class_<camrt::Rect>(m, "Rect")
        .def(nb::init<>())
        .def(
            "__init__",
            [](camrt::Rect* r, int x, int y, int w, int h) {
                new (r) camrt::Rect{x, y, w, h};
            },
            "x"_a, "y"_a, "w"_a, "h"_a)
        .def_rw("x", &camrt::Rect::x)
        .def_rw("y", &camrt::Rect::y)
        .def_rw("w", &camrt::Rect::w)
        .def_rw("h", &camrt::Rect::h)
        .def("astuple", [](const camrt::Rect& r) { return nb::make_tuple(r.x, r.y, r.w, r.h); })
        .def("__eq__", [](const camrt::Rect& a,
                          nb::handle b) { return nb::isinstance<camrt::Rect>(b) && a == nb::cast<camrt::Rect>(b); })
        .def("__repr__", [](const camrt::Rect& r) {
            return "Rect(x=" + std::to_string(r.x) + ", y=" + std::to_string(r.y) + ", w=" + std::to_string(r.w) +
                   ", h=" + std::to_string(r.h) + ")";
        });

    nb::class_<camrt::TensorInfo>(m, "TensorInfo")
        .def_ro("height", &camrt::TensorInfo::height)
        .def_ro("width", &camrt::TensorInfo::width)
        .def_ro("channels", &camrt::TensorInfo::channels)
        .def_ro("w_stride", &camrt::TensorInfo::w_stride);

    // ---- planner and preprocessing
    m.def("plan_crops", &camrt::plan_crops, "frame_w"_a, "frame_h"_a, "n_crops"_a, "model_w"_a, "model_h"_a,
          "Square crops along the long side (see planner.hpp); FrameTooSmall for a frame below the model input.");

    m.def(
        "frame_address",
        [](U8Array frame, const std::string& fmt) {
            return reinterpret_cast<std::uintptr_t>(frame_view(frame, fmt).data);
        },
        "frame"_a.noconvert(), "fmt"_a, "Address of the pixels the C++ side reads (equals the array's: no copy).");

    m.def(
        "crop_resize",
        [](U8Array frame, const std::string& fmt, nb::handle crop, U8Out out, const std::string& order) {
            const camrt::FrameView f = frame_view(frame, fmt);
            const camrt::Rect r = to_rect(crop);
            if (out.ndim() != 3 || out.shape(2) != 3 || out.stride(2) != 1 || out.stride(1) != 3 ||
                out.stride(0) < static_cast<int64_t>(3 * out.shape(1)) || out.stride(0) % 3 != 0) {
                value_error(
                    "out must be a writable uint8 (height, width, 3) array with packed pixels and rows "
                    "w_stride * 3 bytes apart (e.g. buf[:, :width] of a (height, w_stride, 3) buffer)");
            }
            const camrt::TensorInfo t{static_cast<int>(out.shape(0)), static_cast<int>(out.shape(1)), 3,
                                      static_cast<int>(out.stride(0) / 3)};
            const camrt::ColorOrder o = to_order(order);
            nb::gil_scoped_release release;
            camrt::crop_resize(f, r, out.data(), t, o);
        },
        "frame"_a.noconvert(), "fmt"_a, "crop"_a, "out"_a.noconvert(), "order"_a = "RGB",
        "Fused crop + bilinear resize + colour conversion of `frame` (RGB888, BGR888, NV12, YUYV) into `out`.");

    m.def(
        "preprocess",
        [](U8Array frame, const std::string& fmt, nb::handle crop, int width, int height, const std::string& order) {
            const camrt::FrameView f = frame_view(frame, fmt);
            const camrt::Rect r = to_rect(crop);
            if (width <= 0 || height <= 0) value_error("width and height must be positive");
            const camrt::TensorInfo t{height, width, 3, width};
            const camrt::ColorOrder o = to_order(order);
            std::uint8_t* buf = new std::uint8_t[t.size_bytes()];
            nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<std::uint8_t*>(p); });
            {
                nb::gil_scoped_release release;
                camrt::crop_resize(f, r, buf, t, o);
            }
            return nb::ndarray<nb::numpy, std::uint8_t, nb::ndim<3>>(
                buf, {static_cast<size_t>(height), static_cast<size_t>(width), 3}, owner);
        },
        "frame"_a.noconvert(), "fmt"_a, "crop"_a, "width"_a, "height"_a, "order"_a = "RGB",
        "crop_resize into a new (height, width, 3) uint8 array.");

    // ---- quantization
    m.def("dequantize", &dequant_impl<std::int8_t>, "q"_a.noconvert(), "zero_point"_a, "scale"_a,
          "(q - zero_point) * scale as float32.");
    m.def("dequantize", &dequant_impl<std::uint8_t>, "q"_a.noconvert(), "zero_point"_a, "scale"_a);
    m.def(
        "softmax",
        [](nb::ndarray<const float, nb::ndim<1>, nb::c_contig> x) {
            const size_t n = x.shape(0);
            float* out = new float[n];
            nb::capsule owner(out, [](void* p) noexcept { delete[] static_cast<float*>(p); });
            camrt::softmax(x.data(), n, out);
            return nb::ndarray<nb::numpy, float, nb::ndim<1>>(out, {n}, owner);
        },
        "logits"_a, "Numerically stable softmax (float32).");

    // ---- config
    nb::class_<camrt::Config>(m, "Config")
        .def_ro("labels", &camrt::Config::labels)
        .def_ro("thresholds", &camrt::Config::thresholds)
        .def_ro("penalty", &camrt::Config::penalty)
        .def_ro("k", &camrt::Config::k)
        .def_ro("n_crops", &camrt::Config::n_crops)
        .def_ro("hysteresis", &camrt::Config::hysteresis)
        .def_ro("fallback", &camrt::Config::fallback, "label index or -1")
        .def_prop_ro("fallback_label", [](const camrt::Config& c) { return label_or_none(c, c.fallback); })
        .def_ro("softmax", &camrt::Config::softmax)
        .def_prop_ro("color_order", [](const camrt::Config& c) { return std::string(camrt::to_string(c.color_order)); })
        .def_ro("output_port", &camrt::Config::output_port)
        .def_ro("model", &camrt::Config::model)
        .def_ro("max_fps", &camrt::Config::max_fps)
        .def("label_index", &camrt::Config::label_index)
        .def("to_json", &camrt::config_to_json)
        .def("__repr__", [](const camrt::Config& c) { return "camrt.Config(" + camrt::config_to_json(c) + ")"; });
    m.def("parse_config", &camrt::parse_config, "text"_a, "Parse + validate JSON text; ConfigError on any problem.");
    m.def("load_config", &camrt::load_config, "path"_a);
    m.def("check_model_classes", &camrt::check_model_classes, "config"_a, "model_classes"_a);

    m.def("install_sighup_handler", &camrt::install_sighup_handler,
          "SIGHUP then only raises the reload flag that ConfigWatcher.poll() consumes.");
    m.def("raise_reload_flag", &camrt::raise_reload_flag);
    nb::class_<PyConfigWatcher>(m, "ConfigWatcher", nb::type_slots(watcher_slots))
        .def(nb::init<const std::string&, int, nb::object>(), "path"_a, "model_classes"_a = 0, "log"_a = nb::none(),
             "Loads `path` (ConfigError if bad). log(line) gets reload/rejection lines (default: stderr).")
        .def(
            "poll", [](PyConfigWatcher& w) { return w.poll(); }, "True when a new config was accepted.")
        .def("request_reload", [](PyConfigWatcher& w) { w.request_reload(); })
        .def_prop_ro(
            "config", [](const PyConfigWatcher& w) { return camrt::Config(w.current()); },
            "A copy of the config in force.")
        .def_prop_ro("path", [](const PyConfigWatcher& w) { return w.path(); })
        .def_prop_ro("last_error", [](const PyConfigWatcher& w) { return w.last_error(); })
        .def_prop_ro("generation", [](const PyConfigWatcher& w) { return w.generation(); });

    // ---- voter
    nb::class_<camrt::Vote>(m, "Vote")
        .def_ro("decision", &camrt::Vote::decision)
        .def_ro("score", &camrt::Vote::score)
        .def_ro("raw_decision", &camrt::Vote::raw_decision)
        .def_ro("raw_score", &camrt::Vote::raw_score)
        .def_ro("crop_votes", &camrt::Vote::crop_votes)
        .def_ro("mean", &camrt::Vote::mean);
    nb::class_<camrt::Voter>(m, "Voter")
        .def(
            "__init__",
            [](camrt::Voter* v, std::vector<float> thresholds, float penalty, int k, int hysteresis, int fallback) {
                camrt::VoterParams p;
                p.thresholds = std::move(thresholds);
                p.penalty = penalty;
                p.k = k;
                p.hysteresis = hysteresis;
                p.fallback = fallback;
                if (p.fallback >= static_cast<int>(p.thresholds.size())) value_error("fallback is not a class index");
                new (v) camrt::Voter(std::move(p));
            },
            "thresholds"_a, "penalty"_a = 0.1f, "k"_a = 2, "hysteresis"_a = 0, "fallback"_a = -1)
        .def_static(
            "from_config", [](const camrt::Config& c) { return camrt::Voter(c.voter_params()); }, "config"_a)
        .def(
            "vote", [](camrt::Voter& v, nb::handle scores) { return v.vote(scores_from(scores)); }, "scores"_a,
            "scores: (n_crops, n_classes) probabilities. Rule in voter.hpp.")
        .def("reset", &camrt::Voter::reset);

    // ---- engine, results, pipeline
    nb::class_<camrt::Engine>(m, "Engine")
        .def_prop_ro("input_info", [](const camrt::Engine& e) { return e.input_info(); })
        .def_prop_ro("num_classes", [](const camrt::Engine& e) { return e.num_classes(); })
        .def_prop_ro("name", [](const camrt::Engine& e) { return e.name(); });
    nb::class_<CallableEngine, camrt::Engine>(m, "CallableEngine", nb::type_slots(engine_slots))
        .def(nb::init<nb::callable, int, int, int, int, int>(), "fn"_a, "height"_a, "width"_a, "num_classes"_a,
             "channels"_a = 3, "w_stride"_a = 0,
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
        .def_ro("crops", &camrt::FrameResult::crops)
        .def_ro("ms", &camrt::FrameResult::ms);
    m.def("to_json_line", &camrt::to_json_line, "result"_a, "labels"_a,
          "The board's output line for one frame (format in result.hpp / cpp_runtime/README.md).");

    nb::class_<PyPipeline>(m, "Pipeline", nb::type_slots(pipeline_slots))
        .def(
            "__init__",
            [](PyPipeline* p, nb::handle engine, const camrt::Config& cfg) {
                if (!nb::isinstance<camrt::Engine>(engine)) throw nb::type_error("engine must be a camrt.Engine");
                new (p) PyPipeline(nb::borrow(engine), cfg);
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
