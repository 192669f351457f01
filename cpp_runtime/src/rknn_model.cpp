#include "camrt/rknn_model.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace camrt {

std::string rknn_toolkit_version(const std::string& model_path) {
    std::ifstream f(model_path, std::ios::binary);
    if (!f) return "";
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    if (size <= 0) return "";
    const std::streamoff tail = size < (1 << 20) ? size : (1 << 20);
    f.seekg(size - tail);
    std::string buf(static_cast<std::size_t>(tail), '\0');
    if (!f.read(&buf[0], tail)) return "";
    // The description is the last JSON object holding "target_platform"; its "version" follows.
    const std::size_t platform = buf.rfind("\"target_platform\"");
    if (platform == std::string::npos) return "";
    const std::string key = "\"version\":\"";
    std::size_t at = buf.find(key, platform);
    if (at == std::string::npos) return "";
    at += key.size();
    std::string v;
    while (at < buf.size() && v.size() < 64 && buf[at] != '"') {
        const char c = buf[at++];
        if (!std::isprint(static_cast<unsigned char>(c))) return "";
        v += c;
    }
    return (at < buf.size() && buf[at] == '"') ? v : "";
}

namespace {

std::vector<long> version_parts(const std::string& s) {
    std::vector<long> parts;
    std::size_t i = 0;
    while (s.size() > i && s[i] == 'v') ++i;  // "v0.9.8"
    while (parts.size() < 3 && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        long n = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n < 100000)
            n = n * 10 + (s[i++] - '0');
        parts.push_back(n);
        if (i < s.size() && s[i] == '.')
            ++i;
        else
            break;
    }
    parts.resize(3, 0);
    return parts;
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
    const auto pa = version_parts(a);
    const auto pb = version_parts(b);
    for (int i = 0; i < 3; ++i) {
        if (pa[i] != pb[i]) return pa[i] < pb[i] ? -1 : 1;
    }
    return 0;
}

std::string npu_driver_version(const std::string& proc_path) {
    std::ifstream f(proc_path);
    std::string line;
    if (!f || !std::getline(f, line)) return "";
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line.size() > 200 ? line.substr(0, 200) : line;
}

}  // namespace camrt
