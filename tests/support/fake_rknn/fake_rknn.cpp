// The fake NPU runtime: see fake_rknn.hpp. Written in this project; no Rockchip code or header.
#include "fake_rknn.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fake_rknn {

namespace {

struct Context {
    Fixture fx;
    rknn_tensor_mem* in = nullptr;  // bound buffers
    rknn_tensor_mem* out = nullptr;
    rknn_tensor_attr in_attr{};
    rknn_tensor_attr out_attr{};
    int service = -1;  // tensor service socket, or -1
    int classes = 0;
};

struct State {
    Fixture fixture;
    bool have_fixture = false;
    Model model;
    std::vector<std::string> calls;
    std::vector<std::string> misuse;
    std::map<std::string, int> counts;
    std::map<std::string, std::map<int, int>> errors;  // function -> nth -> code
    std::map<rknn_context, std::unique_ptr<Context>> contexts;
    std::map<rknn_tensor_mem*, rknn_context> buffers;
    rknn_context next_ctx = 0x1000;
    rknn_tensor_attr bound_input{};
};

State& state() {
    static State s;
    return s;
}

// Logs the call; returns the injected error for this call, or 0.
int enter(const std::string& function, const std::string& detail = "") {
    State& s = state();
    s.calls.push_back(detail.empty() ? function : function + "(" + detail + ")");
    const int n = ++s.counts[function];
    auto f = s.errors.find(function);
    if (f == s.errors.end()) return 0;
    auto e = f->second.find(n);
    return e == f->second.end() ? 0 : e->second;
}

int misuse(const std::string& what, int code) {
    state().misuse.push_back(what);
    return code;
}

Context* context(rknn_context ctx) {
    auto it = state().contexts.find(ctx);
    return it == state().contexts.end() ? nullptr : it->second.get();
}

const char* query_name(rknn_query_cmd cmd) {
    switch (cmd) {
        case RKNN_QUERY_IN_OUT_NUM: return "IN_OUT_NUM";
        case RKNN_QUERY_INPUT_ATTR: return "INPUT_ATTR";
        case RKNN_QUERY_OUTPUT_ATTR: return "OUTPUT_ATTR";
        case RKNN_QUERY_SDK_VERSION: return "SDK_VERSION";
        case RKNN_QUERY_NATIVE_INPUT_ATTR: return "NATIVE_INPUT_ATTR";
        case RKNN_QUERY_NATIVE_OUTPUT_ATTR: return "NATIVE_OUTPUT_ATTR";
        case RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR: return "NATIVE_NHWC_INPUT_ATTR";
        case RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR: return "NATIVE_NHWC_OUTPUT_ATTR";
    }
    return "unknown";
}

// --- fixtures (the rv1103_app --dump-attrs format) ---

template <typename E>
E enum_value(const nlohmann::json& v, const std::map<std::string, int>& names, const char* what) {
    if (v.is_number_integer()) return static_cast<E>(v.get<int>());
    if (v.is_string()) {
        auto it = names.find(v.get<std::string>());
        if (it != names.end()) return static_cast<E>(it->second);
    }
    throw std::runtime_error(std::string("fixture: unknown ") + what + " " + v.dump());
}

rknn_tensor_attr parse_attr(const nlohmann::json& j) {
    static const std::map<std::string, int> fmts = {{"NCHW", RKNN_TENSOR_NCHW},
                                                    {"NHWC", RKNN_TENSOR_NHWC},
                                                    {"NC1HWC2", RKNN_TENSOR_NC1HWC2},
                                                    {"UNDEFINED", RKNN_TENSOR_UNDEFINED}};
    static const std::map<std::string, int> types = {
        {"FP32", RKNN_TENSOR_FLOAT32}, {"FP16", RKNN_TENSOR_FLOAT16},  {"INT8", RKNN_TENSOR_INT8},
        {"UINT8", RKNN_TENSOR_UINT8},  {"INT16", RKNN_TENSOR_INT16},   {"UINT16", RKNN_TENSOR_UINT16},
        {"INT32", RKNN_TENSOR_INT32},  {"UINT32", RKNN_TENSOR_UINT32}, {"INT64", RKNN_TENSOR_INT64},
        {"BOOL", RKNN_TENSOR_BOOL},    {"INT4", RKNN_TENSOR_INT4}};
    static const std::map<std::string, int> qnts = {
        {"NONE", RKNN_TENSOR_QNT_NONE}, {"DFP", RKNN_TENSOR_QNT_DFP}, {"AFFINE", RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC}};
    rknn_tensor_attr a{};
    a.index = j.value("index", 0u);
    const auto dims = j.at("dims").get<std::vector<std::uint32_t>>();
    if (dims.empty() || dims.size() > RKNN_MAX_DIMS) throw std::runtime_error("fixture: dims must have 1..16 values");
    a.n_dims = static_cast<std::uint32_t>(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) a.dims[i] = dims[i];
    const std::string name = j.value("name", std::string("tensor"));
    std::snprintf(a.name, sizeof a.name, "%s", name.c_str());
    a.n_elems = j.at("n_elems").get<std::uint32_t>();
    a.size = j.at("size").get<std::uint32_t>();
    a.fmt = enum_value<rknn_tensor_format>(j.at("fmt"), fmts, "fmt");
    a.type = enum_value<rknn_tensor_type>(j.at("type"), types, "type");
    a.qnt_type = enum_value<rknn_tensor_qnt_type>(j.value("qnt_type", nlohmann::json("AFFINE")), qnts, "qnt_type");
    a.fl = static_cast<std::int8_t>(j.value("fl", 0));
    a.zp = j.value("zp", 0);
    a.scale = j.value("scale", 1.0f);
    a.w_stride = j.value("w_stride", 0u);
    a.size_with_stride = j.value("size_with_stride", a.size);
    a.pass_through = static_cast<std::uint8_t>(j.value("pass_through", 0));
    a.h_stride = j.value("h_stride", 0u);
    return a;
}

// --- values in the output's type ---

std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const int exp = static_cast<int>((x >> 23) & 0xffu) - 127 + 15;
    std::uint32_t man = x & 0x7fffffu;
    if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow: infinity
    if (exp <= 0) {                                                    // subnormal or zero
        if (exp < -10) return static_cast<std::uint16_t>(sign);
        man |= 0x800000u;
        const int shift = 14 - exp;
        std::uint32_t h = man >> shift;
        if ((man >> (shift - 1)) & 1u) ++h;  // round half up
        return static_cast<std::uint16_t>(sign | h);
    }
    std::uint32_t h = sign | (static_cast<std::uint32_t>(exp) << 10) | (man >> 13);
    if (man & 0x1000u) ++h;  // round half up (carries into the exponent correctly)
    return static_cast<std::uint16_t>(h);
}

template <typename T>
T quantize(float v, const rknn_tensor_attr& a, long lo, long hi) {
    double q;
    if (a.qnt_type == RKNN_TENSOR_QNT_DFP) {
        q = std::nearbyint(static_cast<double>(v) * std::ldexp(1.0, a.fl));
    } else {
        q = std::nearbyint(static_cast<double>(v) / static_cast<double>(a.scale)) + a.zp;
    }
    if (q < lo) q = static_cast<double>(lo);
    if (q > hi) q = static_cast<double>(hi);
    return static_cast<T>(q);
}

int write_scores(const std::vector<float>& s, const rknn_tensor_attr& a, rknn_tensor_mem* mem) {
    auto* out = static_cast<std::uint8_t*>(mem->virt_addr);
    std::memset(out, kPoison, mem->size);
    for (std::size_t i = 0; i < s.size(); ++i) {
        switch (a.type) {
            case RKNN_TENSOR_INT8: {
                const auto q = quantize<std::int8_t>(s[i], a, -128, 127);
                std::memcpy(out + i, &q, 1);
                break;
            }
            case RKNN_TENSOR_UINT8: out[i] = quantize<std::uint8_t>(s[i], a, 0, 255); break;
            case RKNN_TENSOR_INT16: {
                const auto q = quantize<std::int16_t>(s[i], a, -32768, 32767);
                std::memcpy(out + 2 * i, &q, 2);
                break;
            }
            case RKNN_TENSOR_FLOAT16: {
                const std::uint16_t h = float_to_half(s[i]);
                std::memcpy(out + 2 * i, &h, 2);
                break;
            }
            case RKNN_TENSOR_FLOAT32: std::memcpy(out + 4 * i, &s[i], 4); break;
            default: return misuse("rknn_run: the fake has no writer for output type " + std::to_string(a.type), -9);
        }
    }
    return RKNN_SUCC;
}

std::size_t type_bytes(rknn_tensor_type t) {
    switch (t) {
        case RKNN_TENSOR_FLOAT32:
        case RKNN_TENSOR_INT32:
        case RKNN_TENSOR_UINT32: return 4;
        case RKNN_TENSOR_FLOAT16:
        case RKNN_TENSOR_INT16:
        case RKNN_TENSOR_UINT16: return 2;
        case RKNN_TENSOR_INT64: return 8;
        default: return 1;
    }
}

// --- the tensor service (tensor_protocol.py, version 1) ---

void put_u32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
bool send_all(int fd, const void* data, std::size_t n) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    while (n) {
        const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return true;
}
bool recv_all(int fd, void* data, std::size_t n) {
    auto* p = static_cast<std::uint8_t*>(data);
    while (n) {
        const ssize_t k = ::recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return true;
}
// One request, one reply; false (with a message in misuse-free stderr) when the service fails.
bool exchange(int fd, const char* tag, const std::vector<std::uint8_t>& payload, std::string& reply_tag,
              std::vector<std::uint8_t>& reply) {
    std::uint8_t head[8];
    std::memcpy(head, tag, 4);
    put_u32(head + 4, static_cast<std::uint32_t>(payload.size()));
    if (!send_all(fd, head, 8) || (!payload.empty() && !send_all(fd, payload.data(), payload.size()))) return false;
    if (!recv_all(fd, head, 8)) return false;
    reply_tag.assign(reinterpret_cast<const char*>(head), 4);
    const std::uint32_t n = get_u32(head + 4);
    if (n > (64u << 20)) return false;
    reply.resize(n);
    if (n && !recv_all(fd, reply.data(), n)) return false;
    if (reply_tag == "FAIL") {
        std::fprintf(stderr, "fake rknn: tensor service: %.*s\n", static_cast<int>(n),
                     reinterpret_cast<const char*>(reply.data()));
        return false;
    }
    return true;
}

int open_service(Context& c, const std::string& socket_path, const std::vector<std::uint8_t>& model) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) return RKNN_ERR_DEVICE_UNAVAILABLE;
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    c.service = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.service < 0 || ::connect(c.service, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        std::fprintf(stderr, "fake rknn: cannot reach the tensor service at %s\n", socket_path.c_str());
        return RKNN_ERR_DEVICE_UNAVAILABLE;
    }
    std::string tag;
    std::vector<std::uint8_t> reply;
    if (!exchange(c.service, "OPEN", model, tag, reply) || tag != "MODL" || reply.size() < 32) {
        return RKNN_ERR_MODEL_INVALID;
    }
    const std::uint32_t h = get_u32(&reply[4]), w = get_u32(&reply[8]), ch = get_u32(&reply[12]);
    c.classes = static_cast<int>(get_u32(&reply[24]));
    const rknn_tensor_attr& in = c.fx.input;
    if (in.n_dims != 4 || in.dims[1] != h || in.dims[2] != w || in.dims[3] != ch) {
        std::fprintf(stderr, "fake rknn: the fixture's input does not match the service's %ux%ux%u model\n", h, w, ch);
        return RKNN_ERR_MODEL_INVALID;
    }
    return RKNN_SUCC;
}

}  // namespace

Fixture parse_fixture(const std::string& text) {
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        Fixture f;
        f.source = j.value("source", std::string());
        if (j.contains("sdk")) {
            f.api_version = j["sdk"].value("api_version", f.api_version);
            f.drv_version = j["sdk"].value("drv_version", f.drv_version);
        }
        if (j.contains("in_out_num")) {
            f.n_input = j["in_out_num"].at(0).get<std::uint32_t>();
            f.n_output = j["in_out_num"].at(1).get<std::uint32_t>();
        }
        f.input = parse_attr(j.at("native_input"));
        const auto& nhwc = j.at("native_nhwc_output");
        if (nhwc.contains("error")) {
            f.output_nhwc_error = nhwc["error"].get<int>();
        } else {
            f.output_nhwc = parse_attr(nhwc);
        }
        f.output_native = parse_attr(j.at("native_output"));
        f.output = j.contains("output") && !j["output"].contains("error") ? parse_attr(j["output"]) : f.output_native;
        return f;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("fixture: ") + e.what());
    }
}

Fixture load_fixture(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("fixture: cannot open " + path);
    return parse_fixture(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

void set_fixture(const Fixture& f) {
    State& s = state();
    s.fixture = f;
    s.have_fixture = true;
    s.calls.clear();
    s.misuse.clear();
    s.counts.clear();
    s.errors.clear();
}

void set_model(Model m) { state().model = std::move(m); }

std::vector<float> probe_scores(const std::uint8_t* packed, int h, int w, int c, int classes) {
    std::vector<float> out(static_cast<std::size_t>(classes), 0.0f);
    for (int k = 0; k < classes; ++k) {
        double sum = 0;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                sum += static_cast<double>(packed[(static_cast<std::size_t>(y) * w + x) * c + k % c]) *
                       (1 + (y + 2 * x) % 5);
        out[static_cast<std::size_t>(k)] = static_cast<float>(sum / (255.0 * 3.0 * h * w));
    }
    return out;
}

void inject_error(const std::string& function, int nth, int code) { state().errors[function][nth] = code; }
const std::vector<std::string>& calls() { return state().calls; }
const std::vector<std::string>& misuse() { return state().misuse; }
int live_contexts() { return static_cast<int>(state().contexts.size()); }
int live_buffers() { return static_cast<int>(state().buffers.size()); }
const rknn_tensor_attr& bound_input_attr() { return state().bound_input; }

}  // namespace fake_rknn

using namespace fake_rknn;

extern "C" {

int rknn_init(rknn_context* ctx, void* model, uint32_t size, uint32_t flag, rknn_init_extend* extend) {
    (void)flag;
    (void)extend;
    if (const int e = enter("rknn_init")) return e;
    State& s = state();
    if (!ctx || !model) return misuse("rknn_init: NULL context or model", RKNN_ERR_PARAM_INVALID);
    if (!s.have_fixture) {
        const char* path = std::getenv("FAKE_RKNN_FIXTURE");
        if (!path) return misuse("rknn_init: no fixture (set_fixture or FAKE_RKNN_FIXTURE)", RKNN_ERR_FAIL);
        try {
            s.fixture = load_fixture(path);
            s.have_fixture = true;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "fake rknn: %s\n", e.what());
            return RKNN_ERR_FAIL;
        }
    }
    std::vector<std::uint8_t> bytes;
    if (size == 0) {  // a path
        std::ifstream in(static_cast<const char*>(model), std::ios::binary);
        if (!in) return RKNN_ERR_MODEL_INVALID;
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
        bytes.assign(static_cast<const std::uint8_t*>(model), static_cast<const std::uint8_t*>(model) + size);
    }
    if (bytes.size() < 4 || std::memcmp(bytes.data(), "RKNN", 4) != 0) return RKNN_ERR_MODEL_INVALID;
    auto c = std::make_unique<Context>();
    c->fx = s.fixture;
    c->classes = static_cast<int>(c->fx.output.n_elems);  // the service's count replaces it
    if (const char* sock = std::getenv("FAKE_RKNN_SOCKET"); sock && *sock) {
        const int ret = open_service(*c, sock, bytes);
        if (ret != RKNN_SUCC) {
            if (c->service >= 0) ::close(c->service);
            return ret;
        }
    }
    *ctx = s.next_ctx++;
    s.contexts[*ctx] = std::move(c);
    return RKNN_SUCC;
}

int rknn_destroy(rknn_context ctx) {
    const int injected = enter("rknn_destroy");
    State& s = state();
    auto it = s.contexts.find(ctx);
    if (it == s.contexts.end()) return misuse("rknn_destroy: unknown or destroyed context", RKNN_ERR_CTX_INVALID);
    int held = 0;
    for (auto& b : s.buffers) held += b.second == ctx;
    if (held) misuse("rknn_destroy: " + std::to_string(held) + " buffer(s) of the context not destroyed first", 0);
    // A failing destroy still releases the context: the caller has no meaningful retry.
    if (it->second->service >= 0) ::close(it->second->service);
    s.contexts.erase(it);
    return injected ? injected : RKNN_SUCC;
}

int rknn_query(rknn_context ctx, rknn_query_cmd cmd, void* info, uint32_t size) {
    if (const int e = enter("rknn_query", query_name(cmd))) return e;
    Context* c = context(ctx);
    if (!c) return misuse("rknn_query: unknown or destroyed context", RKNN_ERR_CTX_INVALID);
    if (!info) return misuse("rknn_query: NULL info", RKNN_ERR_PARAM_INVALID);
    auto attr_query = [&](const rknn_tensor_attr& a, std::uint32_t count) {
        if (size != sizeof(rknn_tensor_attr)) return misuse("rknn_query: size is not sizeof(rknn_tensor_attr)", -5);
        auto* out = static_cast<rknn_tensor_attr*>(info);
        if (out->index >= count) return RKNN_ERR_PARAM_INVALID;
        *out = a;
        return RKNN_SUCC;
    };
    switch (cmd) {
        case RKNN_QUERY_IN_OUT_NUM: {
            if (size != sizeof(rknn_input_output_num)) return misuse("rknn_query(IN_OUT_NUM): wrong size", -5);
            auto* io = static_cast<rknn_input_output_num*>(info);
            io->n_input = c->fx.n_input;
            io->n_output = c->fx.n_output;
            return RKNN_SUCC;
        }
        case RKNN_QUERY_SDK_VERSION: {
            if (size != sizeof(rknn_sdk_version)) return misuse("rknn_query(SDK_VERSION): wrong size", -5);
            auto* v = static_cast<rknn_sdk_version*>(info);
            std::snprintf(v->api_version, sizeof v->api_version, "%s", c->fx.api_version.c_str());
            std::snprintf(v->drv_version, sizeof v->drv_version, "%s", c->fx.drv_version.c_str());
            return RKNN_SUCC;
        }
        case RKNN_QUERY_INPUT_ATTR:
        case RKNN_QUERY_NATIVE_INPUT_ATTR:
        case RKNN_QUERY_NATIVE_NHWC_INPUT_ATTR: return attr_query(c->fx.input, c->fx.n_input);
        case RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR:
            if (c->fx.output_nhwc_error) return c->fx.output_nhwc_error;
            return attr_query(c->fx.output_nhwc, c->fx.n_output);
        case RKNN_QUERY_OUTPUT_ATTR: return attr_query(c->fx.output, c->fx.n_output);
        case RKNN_QUERY_NATIVE_OUTPUT_ATTR: return attr_query(c->fx.output_native, c->fx.n_output);
    }
    return RKNN_ERR_PARAM_INVALID;
}

rknn_tensor_mem* rknn_create_mem(rknn_context ctx, uint32_t size) {
    if (enter("rknn_create_mem", std::to_string(size))) return nullptr;
    if (!context(ctx)) {
        misuse("rknn_create_mem: unknown or destroyed context", 0);
        return nullptr;
    }
    if (size == 0) {
        misuse("rknn_create_mem: size 0", 0);
        return nullptr;
    }
    // Exactly `size` bytes from malloc: ASan reports a write past the end.
    auto* mem = static_cast<rknn_tensor_mem*>(std::calloc(1, sizeof(rknn_tensor_mem)));
    void* data = std::malloc(size);
    if (!mem || !data) {
        std::free(mem);
        std::free(data);
        return nullptr;
    }
    std::memset(data, kPoison, size);
    mem->virt_addr = data;
    mem->size = size;
    mem->fd = -1;
    state().buffers[mem] = ctx;
    return mem;
}

int rknn_destroy_mem(rknn_context ctx, rknn_tensor_mem* mem) {
    const int injected = enter("rknn_destroy_mem");
    State& s = state();
    auto it = s.buffers.find(mem);
    if (it == s.buffers.end()) return misuse("rknn_destroy_mem: unknown or already destroyed buffer", -5);
    if (it->second != ctx) return misuse("rknn_destroy_mem: buffer of another context", -7);
    if (!context(ctx)) misuse("rknn_destroy_mem: after its context was destroyed", 0);
    if (Context* c = context(ctx)) {
        if (c->in == mem) c->in = nullptr;
        if (c->out == mem) c->out = nullptr;
    }
    std::free(mem->virt_addr);
    std::free(mem);
    s.buffers.erase(it);
    return injected ? injected : RKNN_SUCC;
}

int rknn_set_io_mem(rknn_context ctx, rknn_tensor_mem* mem, rknn_tensor_attr* attr) {
    // Which tensor: by the name the queries gave (a fixture names its input and output differently).
    const Context* known = context(ctx);
    const bool is_input_attr = attr && known && std::strcmp(attr->name, known->fx.input.name) == 0;
    if (const int e = enter("rknn_set_io_mem", is_input_attr ? "input" : "output")) return e;
    Context* c = context(ctx);
    if (!c) return misuse("rknn_set_io_mem: unknown or destroyed context", RKNN_ERR_CTX_INVALID);
    State& s = state();
    auto it = s.buffers.find(mem);
    if (!attr || it == s.buffers.end() || it->second != ctx)
        return misuse("rknn_set_io_mem: unknown buffer or NULL attribute", RKNN_ERR_PARAM_INVALID);
    if (mem->size < attr->size_with_stride)
        return misuse("rknn_set_io_mem: buffer of " + std::to_string(mem->size) + " bytes for size_with_stride " +
                          std::to_string(attr->size_with_stride),
                      RKNN_ERR_PARAM_INVALID);
    if (is_input_attr) {
        if (attr->type != RKNN_TENSOR_UINT8 || attr->fmt != RKNN_TENSOR_NHWC)
            return misuse("rknn_set_io_mem(input): the zero-copy input must be UINT8 NHWC", RKNN_ERR_PARAM_INVALID);
        c->in = mem;
        c->in_attr = *attr;
        s.bound_input = *attr;
    } else {
        c->out = mem;
        c->out_attr = *attr;
    }
    return RKNN_SUCC;
}

int rknn_run(rknn_context ctx, rknn_run_extend* extend) {
    (void)extend;
    if (const int e = enter("rknn_run")) return e;
    Context* c = context(ctx);
    if (!c) return misuse("rknn_run: unknown or destroyed context", RKNN_ERR_CTX_INVALID);
    if (!c->in || !c->out) return misuse("rknn_run: input and output buffers must be bound first", -5);
    const rknn_tensor_attr& a = c->in_attr;
    const int h = static_cast<int>(a.dims[1]), w = static_cast<int>(a.dims[2]), ch = static_cast<int>(a.dims[3]);
    const int stride = static_cast<int>(a.w_stride ? a.w_stride : a.dims[2]);
    std::vector<std::uint8_t> packed(static_cast<std::size_t>(h) * w * ch);
    const auto* in = static_cast<const std::uint8_t*>(c->in->virt_addr);
    for (int y = 0; y < h; ++y) {  // only the first `w` pixels of each row: the padding is never read
        std::memcpy(packed.data() + static_cast<std::size_t>(y) * w * ch,
                    in + static_cast<std::size_t>(y) * stride * ch, static_cast<std::size_t>(w) * ch);
    }
    std::vector<float> scores;
    if (c->service >= 0) {
        std::string tag;
        std::vector<std::uint8_t> reply;
        if (!exchange(c->service, "RUN ", packed, tag, reply) || tag != "OUT " ||
            reply.size() != static_cast<std::size_t>(c->classes) * 4)
            return RKNN_ERR_FAIL;
        scores.resize(static_cast<std::size_t>(c->classes));
        std::memcpy(scores.data(), reply.data(), reply.size());
    } else {
        scores = state().model ? state().model(packed.data(), h, w, ch, c->classes)
                               : probe_scores(packed.data(), h, w, ch, c->classes);
    }
    if (scores.size() > c->out_attr.n_elems || scores.size() * type_bytes(c->out_attr.type) > c->out->size)
        return misuse("rknn_run: more scores than the output holds", RKNN_ERR_OUTPUT_INVALID);
    return write_scores(scores, c->out_attr, c->out);
}

}  // extern "C"
