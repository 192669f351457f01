// engine_rknn.cpp itself, against the fake NPU runtime (tests/support/fake_rknn): the zero-copy call order,
// buffer lifetimes, input rows at w_stride, every output type, the output-attribute fallback, the
// toolkit/runtime version check and an injected error from every call. Leaks: the fake counts live contexts
// and buffers, and ASan (the sanitizer build) reports any allocation left behind.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "camrt/config.hpp"
#include "camrt/engine_rknn.hpp"
#include "camrt/pipeline.hpp"
#include "camrt/rknn_model.hpp"
#include "fake_rknn.hpp"

TEST_SUITE_BEGIN("rknn");

namespace {

const std::string kFixtures = FAKE_RKNN_FIXTURES;
const std::string kBirdModel = std::string(CAMRT_MODELS_DIR) + "/birds/birds_mnv3s_rv1103.rknn";

fake_rknn::Fixture fixture(const std::string& name) { return fake_rknn::load_fixture(kFixtures + "/" + name); }

// A stand-in .rknn: the magic, some bytes, then the model description a toolkit appends (with its version).
std::string model_file(const std::string& toolkit) {
    char tmpl[] = "/tmp/camrt_rknn_XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(tmpl, std::ios::binary) << "RKNN" << std::string(3000, '\x01') << R"({"target_platform":["rv1103"],)"
                                          << R"("version":")" << toolkit << R"("})";
    return tmpl;
}

struct Cleanup {
    std::string path;
    ~Cleanup() {
        if (!path.empty()) std::remove(path.c_str());
        fake_rknn::set_model({});
    }
};

void check_released() {
    CHECK_EQ(fake_rknn::live_buffers(), 0);
    CHECK_EQ(fake_rknn::live_contexts(), 0);
}

void check_no_misuse() {
    std::string all;
    for (const auto& m : fake_rknn::misuse()) all += m + "; ";
    INFO("misuse: " << all);
    CHECK(fake_rknn::misuse().empty());
}

// Writes an HxW image into the engine's input at its w_stride; padding bytes get `pad`.
void fill_input(camrt::Engine& e, const std::vector<std::uint8_t>& packed, std::uint8_t pad) {
    const camrt::TensorInfo t = e.input_info();
    std::uint8_t* dst = e.input_buffer();
    for (int y = 0; y < t.height; ++y) {
        std::uint8_t* row = dst + static_cast<std::size_t>(y) * t.w_stride * t.channels;
        std::copy_n(packed.data() + static_cast<std::size_t>(y) * t.width * t.channels, t.width * t.channels, row);
        std::fill(row + t.width * t.channels, row + t.w_stride * t.channels, pad);
    }
}

// Brighter towards the bottom: an image read at the wrong row stride loses its brightest rows.
std::vector<std::uint8_t> test_image(int h, int w) {
    std::vector<std::uint8_t> img(static_cast<std::size_t>(h) * w * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c)
                img[(static_cast<std::size_t>(y) * w + x) * 3 + c] =
                    static_cast<std::uint8_t>(std::min(255, y * 255 / h + x % 7 + 3 * c));
    return img;
}

}  // namespace

TEST_CASE("toolkit version of a .rknn, and version order") {
    CHECK_EQ(camrt::rknn_toolkit_version(kBirdModel), "2.5.0");  // the shipped model, built by 2.5.0
    Cleanup c{model_file("1.6.0")};
    CHECK_EQ(camrt::rknn_toolkit_version(c.path), "1.6.0");
    CHECK_EQ(camrt::rknn_toolkit_version("/nonexistent.rknn"), "");
    CHECK(camrt::compare_versions("2.5.0", "1.6.0 (9a7b5d24c@2023-12-13T17:31:11)") > 0);
    CHECK(camrt::compare_versions("2.3.2 (429f97ae6b@2025-04-09T09:09:27)", "2.3.2") == 0);
    CHECK(camrt::compare_versions("2.3", "2.3.2") < 0);
    CHECK(camrt::compare_versions("v0.9.8", "0.9.10") < 0);
    CHECK(camrt::compare_versions("", "0.0.0") == 0);
}

TEST_CASE("the zero-copy call order and lifetimes, with the bird model's attributes") {
    fake_rknn::set_fixture(fixture("birds_mnv3s_rv1103.json"));
    {
        camrt::RknnEngine e(kBirdModel);
        const camrt::RknnModelInfo& i = e.info();
        CHECK_EQ(i.toolkit_version, "2.5.0");
        CHECK(i.sdk_version.rfind("2.5.0", 0) == 0);
        CHECK_EQ(i.driver_version, "0.9.8");
        CHECK_EQ(i.input.height, 64);
        CHECK_EQ(i.input.w_stride, 64);
        CHECK_EQ(i.output_query, "NATIVE_NHWC_OUTPUT_ATTR");
        CHECK_EQ(i.output_type_name, "INT8");
        CHECK_EQ(e.num_classes(), 2);
        // The input was bound as the zero-copy demo binds it: UINT8, NHWC.
        CHECK_EQ(fake_rknn::bound_input_attr().type, RKNN_TENSOR_UINT8);
        CHECK_EQ(fake_rknn::bound_input_attr().fmt, RKNN_TENSOR_NHWC);
        e.run();
        e.run();
        CHECK_EQ(fake_rknn::live_buffers(), 2);
    }
    const std::vector<std::string> expected = {
        "rknn_init",
        "rknn_query(SDK_VERSION)",
        "rknn_query(IN_OUT_NUM)",
        "rknn_query(NATIVE_INPUT_ATTR)",
        "rknn_query(NATIVE_NHWC_OUTPUT_ATTR)",
        "rknn_create_mem(12288)",
        "rknn_create_mem(2)",
        "rknn_set_io_mem(input)",
        "rknn_set_io_mem(output)",
        "rknn_run",
        "rknn_run",
        "rknn_destroy_mem",
        "rknn_destroy_mem",
        "rknn_destroy",
    };
    CHECK_EQ(fake_rknn::calls(), expected);
    check_no_misuse();
    check_released();
}

TEST_CASE("input rows are read at w_stride: the padding never reaches the model") {
    Cleanup c{model_file("1.6.0")};
    fake_rknn::set_fixture(fixture("padded_rows_nc1hwc2.json"));
    camrt::RknnEngine e(c.path);
    const camrt::TensorInfo t = e.input_info();
    REQUIRE_EQ(t.width, 100);
    REQUIRE_EQ(t.w_stride, 112);
    // The engine starts with zeroed padding (the runtime's buffer arrives poisoned).
    const std::uint8_t* buf = e.input_buffer();
    CHECK(std::all_of(buf, buf + t.size_bytes(), [](std::uint8_t b) { return b == 0; }));

    const std::vector<std::uint8_t> img = test_image(t.height, t.width);
    const std::vector<float> want = fake_rknn::probe_scores(img.data(), t.height, t.width, 3, 3);
    fill_input(e, img, 0xFF);  // poisoned padding
    e.run();
    const std::vector<float> with_poison = e.scores();
    REQUIRE_EQ(with_poison.size(), 3u);
    for (int k = 0; k < 3; ++k) CHECK(std::fabs(with_poison[k] - want[k]) <= 0.005f + 1e-6f);  // int8, scale 0.01
    fill_input(e, img, 0x00);
    e.run();
    CHECK_EQ(e.scores(), with_poison);

    // The same image written packed (ignoring w_stride) gives other scores: the check above can fail.
    std::copy(img.begin(), img.end(), e.input_buffer());
    e.run();
    CHECK(e.scores() != with_poison);
}

TEST_CASE("the pipeline writes its crops at the runtime's w_stride") {
    // One frame through camrt::Pipeline twice: once with padded rows, once without. Same scores.
    Cleanup c{model_file("1.6.0")};
    fake_rknn::Fixture padded = fixture("padded_rows_nc1hwc2.json");
    fake_rknn::Fixture tight = padded;
    tight.input.w_stride = 100;
    tight.input.size_with_stride = 24000;
    std::vector<std::uint8_t> frame(static_cast<std::size_t>(120) * 200 * 3);
    for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>((i * 7u) % 253u);
    const camrt::FrameView view{frame.data(), 200, 120, camrt::PixelFormat::RGB888, 200 * 3};
    const camrt::Config cfg = camrt::parse_config(R"({"labels": ["a", "b", "c"]})");
    std::vector<std::vector<float>> results;
    for (const auto* fx : {&padded, &tight}) {
        fake_rknn::set_fixture(*fx);
        camrt::RknnEngine e(c.path);
        camrt::Pipeline p(e, cfg);
        const camrt::FrameResult r = p.process(view, 0, 0.0);
        std::vector<float> all;
        for (const auto& crop : r.crops) all.insert(all.end(), crop.scores.begin(), crop.scores.end());
        results.push_back(all);
    }
    REQUIRE_EQ(results[0].size(), 9u);
    CHECK_EQ(results[0], results[1]);
    check_no_misuse();
    check_released();
}

TEST_CASE("every output type the engine reads, and DFP") {
    Cleanup c{model_file("1.6.0")};
    const std::vector<float> values = {1.5f, -2.25f, 0.125f};
    fake_rknn::set_model([&](const std::uint8_t*, int, int, int, int) { return values; });
    struct Case {
        rknn_tensor_type type;
        rknn_tensor_qnt_type qnt;
        std::int8_t fl;
        std::int32_t zp;
        float scale;
        std::uint32_t bytes;
        float tolerance;
    };
    const Case cases[] = {
        {RKNN_TENSOR_INT8, RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC, 0, -10, 0.03f, 1, 0.015f},
        {RKNN_TENSOR_UINT8, RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC, 0, 128, 0.03f, 1, 0.015f},
        {RKNN_TENSOR_INT16, RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC, 0, 3, 0.001f, 2, 0.0005f},
        {RKNN_TENSOR_INT16, RKNN_TENSOR_QNT_DFP, 10, 0, 1.0f, 2, 1.0f / 2048},
        {RKNN_TENSOR_INT8, RKNN_TENSOR_QNT_DFP, 4, 0, 1.0f, 1, 1.0f / 32},
        {RKNN_TENSOR_FLOAT16, RKNN_TENSOR_QNT_NONE, 0, 0, 1.0f, 2, 0.0f},  // these values are exact in fp16
        {RKNN_TENSOR_FLOAT32, RKNN_TENSOR_QNT_NONE, 0, 0, 1.0f, 4, 0.0f},
    };
    for (const Case& k : cases) {
        fake_rknn::Fixture fx = fixture("padded_rows_nc1hwc2.json");
        for (rknn_tensor_attr* a : {&fx.output_native, &fx.output}) {
            a->type = k.type;
            a->qnt_type = k.qnt;
            a->fl = k.fl;
            a->zp = k.zp;
            a->scale = k.scale;
        }
        fx.output_native.size = fx.output_native.size_with_stride = 16 * k.bytes;
        fake_rknn::set_fixture(fx);
        INFO("type " << k.type << " qnt " << k.qnt);
        {
            camrt::RknnEngine e(c.path);
            e.run();
            REQUIRE_EQ(e.scores().size(), 3u);
            for (int i = 0; i < 3; ++i) CHECK(std::fabs(e.scores()[i] - values[i]) <= k.tolerance + 1e-6f);
        }
        check_no_misuse();
        check_released();
    }
}

TEST_CASE("the NHWC output query falls back to the native one; both refused is an error") {
    Cleanup c{model_file("1.6.0")};
    fake_rknn::set_fixture(fixture("padded_rows_nc1hwc2.json"));  // NATIVE_NHWC_OUTPUT_ATTR answers -5
    {
        camrt::RknnEngine e(c.path);
        CHECK(e.info().output_query.rfind("NATIVE_OUTPUT_ATTR", 0) == 0);
        CHECK(e.info().output_query.find("RKNN_ERR_PARAM_INVALID") != std::string::npos);
        CHECK_EQ(e.num_classes(), 3);  // the logical count, not the 16 padded channels
        const auto& calls = fake_rknn::calls();
        CHECK(std::find(calls.begin(), calls.end(), "rknn_query(NATIVE_OUTPUT_ATTR)") != calls.end());
    }
    check_released();

    fake_rknn::set_fixture(fixture("padded_rows_nc1hwc2.json"));
    fake_rknn::inject_error("rknn_query", 5, RKNN_ERR_FAIL);  // the 5th query: NATIVE_OUTPUT_ATTR
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path},
                         doctest::Contains("rknn_query(RKNN_QUERY_NATIVE_OUTPUT_ATTR) failed: -1 RKNN_ERR_FAIL (tried "
                                           "after RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR failed: -5 "
                                           "RKNN_ERR_PARAM_INVALID)"),
                         std::runtime_error);
    check_no_misuse();
    check_released();

    // A native output with more than one spatial position is not a classifier's vector.
    fake_rknn::Fixture fx = fixture("padded_rows_nc1hwc2.json");
    fx.output_native.dims[2] = 2;
    fake_rknn::set_fixture(fx);
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains("not a vector of class scores"),
                         std::runtime_error);
    check_released();
}

TEST_CASE("unreadable outputs are refused at init, not at the first frame") {
    Cleanup c{model_file("1.6.0")};
    for (rknn_tensor_type t : {RKNN_TENSOR_INT32, RKNN_TENSOR_BOOL, RKNN_TENSOR_UINT16, RKNN_TENSOR_INT4}) {
        fake_rknn::Fixture fx = fixture("padded_rows_nc1hwc2.json");
        fx.output_native.type = t;
        fake_rknn::set_fixture(fx);
        CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains("is not supported (INT8, UINT8, INT16"),
                             std::runtime_error);
        CHECK(std::none_of(fake_rknn::calls().begin(), fake_rknn::calls().end(),
                           [](const std::string& s) { return s.rfind("rknn_create_mem", 0) == 0; }));
        check_released();
    }
    fake_rknn::Fixture fx = fixture("padded_rows_nc1hwc2.json");
    fx.output_native.type = RKNN_TENSOR_FLOAT32;
    fx.output_native.size_with_stride = 8;  // 3 floats need 12 bytes
    fake_rknn::set_fixture(fx);
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains("holds fewer than 3 FP32 values"),
                         std::runtime_error);
    fx = fixture("padded_rows_nc1hwc2.json");
    fx.output_native.scale = 0.0f;
    fake_rknn::set_fixture(fx);
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains("scale"), std::runtime_error);
    fx = fixture("padded_rows_nc1hwc2.json");
    fx.input.size_with_stride = 24000;  // rows of 112 pixels do not fit
    fake_rknn::set_fixture(fx);
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains("is smaller than H*w_stride*C"),
                         std::runtime_error);
    check_no_misuse();
    check_released();
}

TEST_CASE("a model built by a newer toolkit than the board's runtime is refused, saying what to install") {
    fake_rknn::Fixture fx = fixture("birds_mnv3s_rv1103.json");
    fx.api_version = "1.6.0 (9a7b5d24c@2023-12-13T17:31:11)";
    fx.drv_version = "0.9.2";
    fake_rknn::set_fixture(fx);
    try {
        camrt::RknnEngine e(kBirdModel);
        FAIL("accepted a 2.5.0 model on a 1.6.0 runtime");
    } catch (const std::runtime_error& err) {
        const std::string m = err.what();
        INFO(m);
        CHECK(m.find("built by rknn-toolkit2 2.5.0, newer than this board's RKNN runtime (librknnmrt 1.6.0") !=
              std::string::npos);
        CHECK(m.find("install librknnmrt.so 2.5.0 or newer") != std::string::npos);
        CHECK(m.find("rebuild the model with rknn-toolkit2 1.6.0") != std::string::npos);
    }
    check_no_misuse();
    check_released();

    // rknn_init's -6 names the model's toolkit version first, then rkipc.
    fake_rknn::set_fixture(fixture("birds_mnv3s_rv1103.json"));
    fake_rknn::inject_error("rknn_init", 1, RKNN_ERR_MODEL_INVALID);
    CHECK_THROWS_WITH_AS(camrt::RknnEngine{kBirdModel},
                         doctest::Contains("-6 RKNN_ERR_MODEL_INVALID (the model was built by rknn-toolkit2 2.5.0"),
                         std::runtime_error);
    check_released();
}

TEST_CASE("an error from every call: named in the message, nothing leaked") {
    Cleanup c{model_file("1.6.0")};
    struct Injection {
        const char* function;
        int nth;
        const char* message;  // "" = the engine carries on
    };
    const Injection injections[] = {
        {"rknn_init", 1, "rknn_init("},
        {"rknn_query", 1, ""},  // SDK_VERSION: only the log line loses the version
        {"rknn_query", 2, "rknn_query(RKNN_QUERY_IN_OUT_NUM) failed: -2 RKNN_ERR_TIMEOUT"},
        {"rknn_query", 3, "rknn_query(RKNN_QUERY_NATIVE_INPUT_ATTR) failed: -2"},
        {"rknn_query", 4, ""},  // NATIVE_NHWC_OUTPUT_ATTR: this fixture refuses it anyway
        {"rknn_query", 5, "rknn_query(RKNN_QUERY_NATIVE_OUTPUT_ATTR) failed: -2 RKNN_ERR_TIMEOUT (tried after"},
        {"rknn_query", 6, ""},  // OUTPUT_ATTR (logical count): falls back to the native count
        {"rknn_create_mem", 1, "rknn_create_mem(input, 26880) failed: -4 RKNN_ERR_MALLOC_FAIL"},
        {"rknn_create_mem", 2, "rknn_create_mem(output, 16) failed: -4"},
        {"rknn_set_io_mem", 1, "rknn_set_io_mem(input) failed: -2"},
        {"rknn_set_io_mem", 2, "rknn_set_io_mem(output) failed: -2"},
        {"rknn_destroy_mem", 1, ""},
        {"rknn_destroy_mem", 2, ""},
        {"rknn_destroy", 1, ""},
    };
    for (const Injection& inj : injections) {
        INFO(inj.function << " #" << inj.nth);
        fake_rknn::set_fixture(fixture("padded_rows_nc1hwc2.json"));
        fake_rknn::inject_error(inj.function, inj.nth, RKNN_ERR_TIMEOUT);
        if (*inj.message) {
            CHECK_THROWS_WITH_AS(camrt::RknnEngine{c.path}, doctest::Contains(inj.message), std::runtime_error);
        } else {
            camrt::RknnEngine e(c.path);
            e.run();
            CHECK(e.num_classes() >= 3);
        }
        check_no_misuse();
        // A failing rknn_destroy still ends the context in the fake; the engine called it once, last.
        check_released();
    }
    // rknn_run: that frame fails with the code; the next one works.
    fake_rknn::set_fixture(fixture("padded_rows_nc1hwc2.json"));
    fake_rknn::inject_error("rknn_run", 1, RKNN_ERR_TIMEOUT);
    {
        camrt::RknnEngine e(c.path);
        CHECK_THROWS_WITH_AS(e.run(), doctest::Contains("rknn_run failed: -2 RKNN_ERR_TIMEOUT"), std::runtime_error);
        e.run();
    }
    check_no_misuse();
    check_released();
}

TEST_CASE("--dump-attrs records what the fake runtime reads back as a fixture") {
    Cleanup c{model_file("1.6.0")};
    const fake_rknn::Fixture original = fixture("padded_rows_nc1hwc2.json");
    fake_rknn::set_fixture(original);
    const std::string dumped = camrt::rknn_dump_attrs(c.path);
    CHECK(dumped.find("\"error_name\": \"RKNN_ERR_PARAM_INVALID\"") != std::string::npos);  // the NHWC query
    CHECK(dumped.find("\"toolkit_version\": \"1.6.0\"") != std::string::npos);
    const fake_rknn::Fixture again = fake_rknn::parse_fixture(dumped);
    CHECK_EQ(again.api_version, original.api_version);
    CHECK_EQ(again.output_nhwc_error, -5);
    for (auto pair :
         {std::make_pair(&again.input, &original.input), std::make_pair(&again.output_native, &original.output_native),
          std::make_pair(&again.output, &original.output)}) {
        const rknn_tensor_attr& a = *pair.first;
        const rknn_tensor_attr& b = *pair.second;
        CHECK_EQ(std::string(a.name), std::string(b.name));
        CHECK_EQ(a.n_dims, b.n_dims);
        CHECK(std::equal(a.dims, a.dims + a.n_dims, b.dims));
        CHECK_EQ(a.n_elems, b.n_elems);
        CHECK_EQ(a.fmt, b.fmt);
        CHECK_EQ(a.type, b.type);
        CHECK_EQ(a.qnt_type, b.qnt_type);
        CHECK_EQ(a.zp, b.zp);
        CHECK_EQ(a.scale, b.scale);
        CHECK_EQ(a.w_stride, b.w_stride);
        CHECK_EQ(a.size_with_stride, b.size_with_stride);
    }
    check_no_misuse();
    check_released();
}

TEST_SUITE_END();
