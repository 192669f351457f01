// Config and hot reload: Config, ModelManifest, parse_manifest, manifest_path_for, parse_config, load_config,
// check_model_classes, ConfigWatcher, SIGHUP.
#include "camrt/config.hpp"

#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <climits>
#include <optional>

#include "bindings.hpp"
#include "camrt/config_watcher.hpp"

namespace camrt_py {

using namespace nb::literals;

namespace {

std::optional<std::string> label_or_none(const camrt::Config& c, int idx) {
    if (idx < 0 || idx >= static_cast<int>(c.labels.size())) return std::nullopt;
    return c.labels[idx];
}

// ConfigWatcher whose log goes to a Python callable, held where the cycle collector can see it.
class PyConfigWatcher : public camrt::ConfigWatcher {
   public:
    PyConfigWatcher(const std::string& path, int model_classes, nb::object log, std::uint64_t settle_ns,
                    const std::string& manifest)
        : camrt::ConfigWatcher(path, model_classes, log.is_none() ? Logger() : Logger([this](const std::string& line) {
                                   nb::gil_scoped_acquire gil;
                                   if (log_.is_valid() && !log_.is_none()) log_(line);
                               }),
                               Clock(), settle_ns, manifest),
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

}  // namespace

void bind_config(nb::module_& m) {
    nb::exception<camrt::ConfigError>(m, "ConfigError", PyExc_ValueError);

    nb::class_<camrt::Config>(m, "Config", "A validated config (read-only); see config.hpp for the keys.")
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
        .def("label_index", &camrt::Config::label_index, "label"_a)
        .def("to_json", &camrt::config_to_json)
        .def("__repr__", [](const camrt::Config& c) { return "camrt.Config(" + camrt::config_to_json(c) + ")"; });
    m.attr("MAX_CONFIG_BYTES") = camrt::kMaxConfigBytes;
    nb::class_<camrt::ModelManifest>(m, "ModelManifest",
                                     "A model's labels and colour order, as the board reads them beside the model.")
        .def_ro("labels", &camrt::ModelManifest::labels)
        .def_prop_ro("color_order",
                     [](const camrt::ModelManifest& mm) { return std::string(camrt::to_string(mm.color_order)); })
        .def_ro("source", &camrt::ModelManifest::source);
    m.def("parse_manifest", &camrt::parse_manifest, "text"_a, "source"_a,
          "Parse a model manifest (the model card's format: labels, input.colour_order); ConfigError naming "
          "`source`.");
    m.def("manifest_path_for", &camrt::manifest_path_for, "model"_a,
          "Where a model's manifest is: its extension replaced by .json (model/model.rknn -> model/model.json).");
    m.def("parse_config", &camrt::parse_config, "text"_a, nb::arg("manifest").none() = nb::none(),
          "Parse + validate JSON text; ConfigError on any problem (text above MAX_CONFIG_BYTES included).\n"
          "With the model's manifest, labels and color_order may be omitted; a config that contradicts it is\n"
          "refused, naming both values.");
    m.def("load_config", &camrt::load_config, "path"_a, "manifest"_a = "",
          "Read (at most MAX_CONFIG_BYTES, checked before reading) and parse a config file; ConfigError.\n"
          "The model manifest: `manifest`, else the file beside the model the config names (absent: none).");
    m.def(
        "check_model_classes",
        [](const camrt::Config& c, std::int64_t n) {
            camrt::check_model_classes(c, checked_int(n, INT_MIN, INT_MAX, "model_classes"));
        },
        "config"_a, "model_classes"_a, "ConfigError when the label count differs from the model's outputs.");

    m.def("install_sighup_handler", &camrt::install_sighup_handler,
          "SIGHUP then only raises the reload flag that ConfigWatcher.poll() consumes.");
    m.def("raise_reload_flag", &camrt::raise_reload_flag);
    nb::class_<PyConfigWatcher>(m, "ConfigWatcher", nb::type_slots(watcher_slots))
        .def(
            "__init__",
            [](PyConfigWatcher* w, const std::string& path, std::int64_t model_classes, nb::object log,
               double settle_ms, const std::string& manifest) {
                if (!(settle_ms >= 0.0 && settle_ms <= 60000.0))
                    throw nb::value_error("settle_ms must be between 0 and 60000");
                new (w) PyConfigWatcher(path, checked_int(model_classes, 0, INT_MAX, "model_classes"), std::move(log),
                                        static_cast<std::uint64_t>(settle_ms * 1e6), manifest);
            },
            "path"_a, "model_classes"_a = 0, "log"_a = nb::none(), "settle_ms"_a = 100.0, "manifest"_a = "",
            "Loads `path` (ConfigError if bad). log(line) gets reload/rejection lines (default: stderr).\n"
            "A changed file is read once its mtime/size/inode held for settle_ms across polls.")
        .def(
            "poll", [](PyConfigWatcher& w) { return w.poll(); }, "True when a new config was accepted.")
        .def("request_reload", [](PyConfigWatcher& w) { w.request_reload(); })
        .def_prop_ro(
            "config", [](const PyConfigWatcher& w) { return camrt::Config(w.current()); },
            "A copy of the config in force.")
        .def_prop_ro("path", [](const PyConfigWatcher& w) { return w.path(); })
        .def_prop_ro("last_error", [](const PyConfigWatcher& w) { return w.last_error(); })
        .def_prop_ro("generation", [](const PyConfigWatcher& w) { return w.generation(); });
}

}  // namespace camrt_py
