// Chooses the engine: RKNN (only in builds given the rknpu2 runtime) or a pipe-served runtime (host).
#pragma once

#include <memory>
#include <string>

#include "camrt/engine.hpp"
#include "options.hpp"

namespace rv1103 {

bool have_rknn();
// Default engine name for this build ("rknn" with RKNN, else "pipe").
std::string default_engine();
// model_path: already resolved (the --model option or the config's "model" beside the config file).
// Throws UsageError for an engine this build lacks, std::runtime_error when the engine fails to start.
std::unique_ptr<camrt::Engine> make_engine(const Options& opts, const std::string& model_path, std::string& describe);
// --dump-attrs: the RKNN runtime's answers for the model as JSON (camrt::rknn_dump_attrs); UsageError without
// the RKNN engine.
std::string dump_attrs(const std::string& model_path);

}  // namespace rv1103
