#include "engine_factory.hpp"

#include "engine_pipe.hpp"

#ifdef CAMRT_HAVE_RKNN
#include "camrt/engine_rknn.hpp"
#endif

namespace rv1103 {

bool have_rknn() {
#ifdef CAMRT_HAVE_RKNN
    return true;
#else
    return false;
#endif
}

std::string default_engine() { return have_rknn() ? "rknn" : "pipe"; }

std::unique_ptr<camrt::Engine> make_engine(const Options& opts, const std::string& model_path, std::string& describe) {
    const std::string kind = opts.engine.empty() ? default_engine() : opts.engine;
    if (kind == "pipe") {
        if (opts.engine_cmd.empty() && opts.engine_socket.empty()) {
            throw UsageError(
                "no engine: this build has no RKNN engine, so give --engine-socket PATH or --engine-cmd CMD "
                "(e.g. python host_tools/sim/rv1103/tensor_server.py --runtime onnx --model M.onnx)");
        }
        auto e = std::make_unique<PipeEngine>(opts.engine_cmd, opts.engine_socket, model_path, opts.pipe_w_stride_pad);
        describe = "pipe (" + e->note() + "; " + e->runtime() + ") - host run, not the board's NPU";
        return e;
    }
#ifdef CAMRT_HAVE_RKNN
    auto e = std::make_unique<camrt::RknnEngine>(model_path);
    const camrt::RknnModelInfo& i = e->info();
    // Versions first: a support question starts with them (model toolkit vs runtime vs kernel driver).
    describe = "rknn " + model_path + " (model built by rknn-toolkit2 " +
               (i.toolkit_version.empty() ? "?" : i.toolkit_version) + "; runtime librknnmrt " +
               (i.sdk_version.empty() ? "?" : i.sdk_version) + ", driver " +
               (i.driver_version.empty() ? "?" : i.driver_version) +
               (i.npu_proc_version.empty() ? "" : " (" + i.npu_proc_version + ")") + "; input " +
               std::to_string(i.input.height) + "x" + std::to_string(i.input.width) + "x" +
               std::to_string(i.input.channels) + " w_stride " + std::to_string(i.input.w_stride) + "; " +
               std::to_string(i.output_elems) + " " + i.output_type_name + " outputs from " + i.output_query + ", zp " +
               std::to_string(i.output_zp) + " scale " + std::to_string(i.output_scale) + ")";
    return e;
#else
    throw UsageError("--engine rknn: this build has no RKNN engine; rebuild with -DRKNN_RUNTIME_DIR=<rknpu2 runtime>");
#endif
}

std::string dump_attrs(const std::string& model_path) {
#ifdef CAMRT_HAVE_RKNN
    return camrt::rknn_dump_attrs(model_path);
#else
    throw UsageError("--dump-attrs needs the RKNN engine; rebuild with -DRKNN_RUNTIME_DIR=<rknpu2 runtime> " +
                     std::string("(model ") + model_path + ")");
#endif
}

}  // namespace rv1103
