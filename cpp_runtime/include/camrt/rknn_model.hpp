// Facts about an RKNN model file and the board's NPU that need no RKNN runtime: which rknn-toolkit2 built
// the .rknn, how two version strings compare, and the NPU driver's version from procfs.
#pragma once

#include <string>

namespace camrt {

// The rknn-toolkit2 version that built a .rknn file ("2.5.0"), "" when the file does not say.
// A .rknn ends with a JSON description of the model whose "version" key is the toolkit's version (the
// runtime prints it too); the file's last 1 MiB is searched, so a 5.7 MB model is not read whole.
std::string rknn_toolkit_version(const std::string& model_path);

// Compares the leading "MAJOR.MINOR.PATCH" numbers of two version strings ("1.6.0 (9a7b5d24c@...)" and
// "2.5.0"): -1, 0 or 1. Missing parts count as 0; a string with no leading digit compares as 0.0.0.
int compare_versions(const std::string& a, const std::string& b);

// The first line of /proc/rknpu/version ("RKNPU driver: v0.9.8"), "" when absent (not a board).
std::string npu_driver_version(const std::string& proc_path = "/proc/rknpu/version");

}  // namespace camrt
