#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "camrt/config.hpp"
#include "camrt/read_capped.hpp"

TEST_SUITE_BEGIN("config");

using camrt::ConfigError;
using camrt::parse_config;

TEST_CASE("read_capped reads to the end, and stops past its limit however the size looked") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);  // a pipe has no size to check beforehand: only the cap can stop it
    const std::string data(5000, 'x');
    REQUIRE(::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
    std::vector<std::uint8_t> bytes;
    CHECK_EQ(camrt::read_capped(fds[0], 4096, bytes), -1);
    CHECK(bytes.size() > 4096u);
    CHECK(bytes.size() <= 4096u + 16384u);  // at most one read beyond the limit
    ::close(fds[0]);

    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
    std::string text = "head:";
    CHECK_EQ(camrt::read_capped(fds[0], 5000 + 5, text), 0);  // the limit counts what `out` already held
    CHECK_EQ(text, "head:" + data);
    ::close(fds[0]);

    std::string none;
    CHECK_EQ(camrt::read_capped(-1, 10, none), EBADF);  // a failed read gives its errno
}

TEST_CASE("full config parses") {
    const camrt::Config c = parse_config(R"({
        "labels": ["bird", "not_bird"], "thresholds": {"bird": 0.7}, "penalty": 0.15, "k": 3,
        "n_crops": 3, "hysteresis": 4, "fallback": "not_bird", "softmax": false, "color_order": "BGR",
        "output_port": 9000, "model": "m.rknn", "max_fps": 12.5})");
    CHECK_EQ(c.labels.size(), 2u);
    CHECK(c.thresholds[0] == doctest::Approx(0.7).epsilon(1e-6));
    CHECK(c.thresholds[1] == doctest::Approx(0.5).epsilon(1e-6));  // default
    CHECK(c.penalty == doctest::Approx(0.15).epsilon(1e-6));
    CHECK_EQ(c.k, 3);
    CHECK_EQ(c.hysteresis, 4);
    CHECK_EQ(c.fallback, 1);
    CHECK(!c.softmax);
    CHECK(c.color_order == camrt::ColorOrder::BGR);
    CHECK_EQ(c.output_port, 9000);
    CHECK_EQ(c.model, std::string("m.rknn"));
    CHECK(c.max_fps == doctest::Approx(12.5).epsilon(1e-9));
}

TEST_CASE("defaults") {
    const camrt::Config c = parse_config(R"({"labels": ["a", "b", "c"]})");
    CHECK_EQ(c.n_crops, 3);
    CHECK_EQ(c.k, 2);
    CHECK_EQ(c.fallback, -1);
    CHECK(c.softmax);
    CHECK(c.color_order == camrt::ColorOrder::RGB);
    CHECK_EQ(parse_config(R"({"labels": ["a"], "n_crops": 1})").k, 1);
}

TEST_CASE("specific errors") {
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "tresholds": {}})"),
                         doctest::Contains("unknown key 'tresholds' (allowed: labels, thresholds"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "penalty": 1.5})"),
                         doctest::Contains("'penalty' = 1.5 is out of range [0, 1]"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "k": 4})"),
                         doctest::Contains("'k' = 4 is out of range [1, 3]"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "n_crops": 5, "k": 2.5})"),
                         doctest::Contains("'k' = 2.5 must be an integer"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "output_port": 70000})"),
                         doctest::Contains("'output_port' = 70000 is out of range [0, 65535]"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "penalty": "high"})"),
                         doctest::Contains("'penalty' must be a number, got string"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a", "b"], "thresholds": {"c": 0.5}})"),
                         doctest::Contains("unknown label 'c' (labels: a, b)"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "thresholds": {"a": -0.1}})"),
                         doctest::Contains("'thresholds.a' = -0.1 is out of range [0, 1]"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a", "a"]})"), doctest::Contains("lists 'a' twice"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": []})"), doctest::Contains("has 0 entries"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"penalty": 0.1})"), doctest::Contains("'labels' is missing"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "fallback": "b"})"),
                         doctest::Contains("not one of the labels"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a"], "color_order": "rgb"})"),
                         doctest::Contains("allowed: RGB, BGR"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config("[1]"), doctest::Contains("top level must be an object"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config("{\"labels\": [\"a\"],\n \"k\": }"), doctest::Contains("line 2"), ConfigError);
}

TEST_CASE("label count against the model") {
    const camrt::Config c = parse_config(R"({"labels": ["a", "b", "c"]})");
    CHECK_THROWS_WITH_AS(camrt::check_model_classes(c, 2),
                         doctest::Contains("has 3 labels but the model has 2 outputs"), ConfigError);
    camrt::check_model_classes(c, 3);
}

TEST_CASE("config_to_json round-trips every field") {
    const camrt::Config c = parse_config(R"({"labels": ["x", "y"], "thresholds": {"y": 0.65}, "penalty": 0.3,
        "k": 1, "n_crops": 4, "hysteresis": 2, "fallback": "y", "softmax": false, "color_order": "BGR",
        "output_port": 0, "model": "a b.rknn", "max_fps": 3})");
    const camrt::Config d = parse_config(camrt::config_to_json(c));
    CHECK(d.labels == c.labels);
    CHECK(d.thresholds == c.thresholds);
    CHECK_EQ(d.penalty, c.penalty);
    CHECK_EQ(d.k, c.k);
    CHECK_EQ(d.n_crops, c.n_crops);
    CHECK_EQ(d.hysteresis, c.hysteresis);
    CHECK_EQ(d.fallback, c.fallback);
    CHECK_EQ(d.softmax, c.softmax);
    CHECK(d.color_order == c.color_order);
    CHECK_EQ(d.output_port, c.output_port);
    CHECK_EQ(d.model, c.model);
    CHECK_EQ(d.max_fps, c.max_fps);
}

TEST_CASE("size, nesting and excerpt limits") {
    CHECK_THROWS_WITH_AS(parse_config(std::string(camrt::kMaxConfigBytes + 1, ' ')),
                         doctest::Contains("65537 bytes; a config is at most 65536"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": [[[[[[[[[[[[[[[[[["a"]]]]]]]]]]]]]]]]]]})"),
                         doctest::Contains("nesting deeper than 16 levels"), ConfigError);
    const std::string long_label(10000, 'z');
    try {
        parse_config(R"({"labels": ["a"], "fallback": ")" + long_label + R"("})");
        FAIL("no error");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        CHECK(what.find("'fallback' = 'zzzz") != std::string::npos);
        CHECK(what.size() < 200);
    }
}

TEST_CASE("random mutations of a config: a Config or a ConfigError, nothing else (run under ASan/UBSan too)") {
    const std::string seed = R"({"labels": ["bird", "not_bird"], "thresholds": {"bird": 0.6, "not_bird": 0.5},
  "penalty": 0.1, "k": 2, "n_crops": 3, "hysteresis": 3, "fallback": "not_bird", "softmax": true,
  "color_order": "RGB", "output_port": 7070, "model": "mod\u00e8l/\n.rknn", "max_fps": 10})";
    const char bytes[] = "{}[]\",:0123456789.eE+-truefalsn \\u\n\x00\xc3\xa9\xff";
    const std::string alphabet(bytes, sizeof bytes - 1);  // the NUL included
    std::mt19937 rng(7);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    int parsed = 0, refused = 0;
    for (int i = 0; i < 10000; ++i) {
        std::string t = seed;
        const int edits = 1 + static_cast<int>(pick(8));
        for (int e = 0; e < edits && !t.empty(); ++e) {
            const std::size_t at = pick(t.size());
            switch (pick(4)) {
                case 0: t[at] = alphabet[pick(alphabet.size())]; break;
                case 1: t.erase(at, 1 + pick(8)); break;
                case 2: t.insert(at, 1, alphabet[pick(alphabet.size())]); break;
                default: t.insert(at, t.substr(pick(t.size()), pick(40))); break;  // duplicate a piece
            }
        }
        try {
            const camrt::Config c = parse_config(t);
            CHECK(!c.labels.empty());
            ++parsed;
        } catch (const ConfigError& e) {
            CHECK(std::string(e.what()).rfind("config: ", 0) == 0);
            ++refused;
        }
    }
    CHECK(parsed + refused == 10000);
    CHECK(refused > 0);
    CHECK(parsed > 0);  // some mutations stay valid configs: the mutations do reach the validation
}

TEST_CASE("model manifest: it supplies labels and colour order; a config agreeing with it is fine") {
    const camrt::ModelManifest m = camrt::parse_manifest(
        R"({"name": "card keys are ignored", "labels": ["bird", "not_bird"],
            "input": {"width": 96, "height": 96, "colour_order": "BGR", "mean": [0, 0, 0]}})",
        "model/model.json");
    CHECK_EQ(m.labels, std::vector<std::string>{"bird", "not_bird"});
    CHECK(m.color_order == camrt::ColorOrder::BGR);
    const camrt::Config c = parse_config(R"({"thresholds": {"bird": 0.7}, "fallback": "not_bird"})", &m);
    CHECK_EQ(c.labels, m.labels);
    CHECK(c.color_order == camrt::ColorOrder::BGR);
    CHECK(c.thresholds[0] == doctest::Approx(0.7).epsilon(1e-6));
    CHECK_EQ(c.fallback, 1);
    const camrt::Config same =
        parse_config(R"({"labels": ["bird", "not_bird"], "color_order": "BGR", "penalty": 0.2})", &m);
    CHECK_EQ(same.labels, m.labels);
    CHECK(same.penalty == doctest::Approx(0.2).epsilon(1e-6));
    // thresholds and fallback are checked against the manifest's labels
    CHECK_THROWS_WITH_AS(parse_config(R"({"thresholds": {"cat": 0.5}})", &m),
                         doctest::Contains("names unknown label 'cat' (labels: bird, not_bird)"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"fallback": "cat"})", &m), doctest::Contains("not one of the labels"),
                         ConfigError);
    // without input.colour_order a manifest means RGB, as a model card does
    const camrt::ModelManifest rgb = camrt::parse_manifest(R"({"labels": ["a"]})", "m.json");
    CHECK(rgb.color_order == camrt::ColorOrder::RGB);
}

TEST_CASE("model manifest: a config that contradicts it is refused, naming both values") {
    const camrt::ModelManifest m =
        camrt::parse_manifest(R"({"labels": ["b", "a"], "input": {"colour_order": "RGB"}})", "model/model.json");
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["a", "b"]})", &m),
                         doctest::Contains("config: 'labels' [a, b] contradict the model manifest's [b, a] "
                                           "(model/model.json)"),
                         ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"labels": ["b"]})", &m), doctest::Contains("[b] contradict"), ConfigError);
    CHECK_THROWS_WITH_AS(parse_config(R"({"color_order": "BGR"})", &m),
                         doctest::Contains("'color_order' BGR contradicts the model manifest's colour order RGB "
                                           "(model/model.json)"),
                         ConfigError);
}

TEST_CASE("model manifest: without one, labels are required; a malformed one is refused naming the file") {
    CHECK_THROWS_WITH_AS(parse_config(R"({"penalty": 0.1})", nullptr), doctest::Contains("'labels' is missing"),
                         ConfigError);
    CHECK_THROWS_WITH_AS(camrt::parse_manifest(R"({"labels": []})", "x/m.json"),
                         doctest::Contains("x/m.json: model manifest: 'labels' has 0 entries"), ConfigError);
    CHECK_THROWS_WITH_AS(camrt::parse_manifest(R"({"input": {}})", "x/m.json"),
                         doctest::Contains("x/m.json: model manifest: 'labels' is missing"), ConfigError);
    CHECK_THROWS_WITH_AS(camrt::parse_manifest(R"({"labels": ["a"], "input": {"colour_order": "rgb"}})", "m.json"),
                         doctest::Contains("'input.colour_order' = 'rgb' is not allowed"), ConfigError);
    CHECK_THROWS_WITH_AS(camrt::parse_manifest("{\"labels\": [\"a\",]", "m.json"),
                         doctest::Contains("m.json: model manifest: invalid JSON"), ConfigError);
    CHECK_EQ(camrt::manifest_path_for("model/model.rknn"), "model/model.json");
    CHECK_EQ(camrt::manifest_path_for("/a.b/model"), "/a.b/model.json");
    CHECK_EQ(camrt::manifest_path_for("m.json"), "");
}

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/camrt_manifest_XXXXXX";
    const char* d = mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    return d;
}

void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("load_config reads the manifest beside the config's model") {
    const std::string dir = temp_dir();
    ::mkdir((dir + "/model").c_str(), 0755);
    const std::string cfg = dir + "/config.json";
    put(cfg, R"({"model": "model/model.rknn", "thresholds": {"bird": 0.6}})");
    CHECK_THROWS_WITH_AS(camrt::load_config(cfg), doctest::Contains("'labels' is missing"), ConfigError);
    put(dir + "/model/model.json", R"({"labels": ["bird", "not_bird"], "input": {"colour_order": "BGR"}})");
    const camrt::Config c = camrt::load_config(cfg);
    CHECK_EQ(c.labels, std::vector<std::string>{"bird", "not_bird"});
    CHECK(c.color_order == camrt::ColorOrder::BGR);
    put(cfg, R"({"model": "model/model.rknn", "labels": ["not_bird", "bird"]})");
    CHECK_THROWS_WITH_AS(
        camrt::load_config(cfg),
        doctest::Contains(("contradict the model manifest's [bird, not_bird] (" + dir + "/model/model.json)").c_str()),
        ConfigError);
    // an explicit manifest path wins over the one beside the model
    put(dir + "/other.json", R"({"labels": ["not_bird", "bird"]})");
    CHECK_EQ(camrt::load_config(cfg, dir + "/other.json").labels[0], "not_bird");
    // a malformed manifest is an error naming it, never taken as no manifest
    put(dir + "/model/model.json", R"({"labels": "bird"})");
    CHECK_THROWS_WITH_AS(
        camrt::load_config(cfg),
        doctest::Contains((dir + "/model/model.json: model manifest: 'labels' must be a array").c_str()), ConfigError);
    put(dir + "/model/model.json", std::string(camrt::kMaxConfigBytes + 1, ' '));
    CHECK_THROWS_WITH_AS(
        camrt::load_config(cfg),
        doctest::Contains("model.json: the model manifest is 65537 bytes; a model manifest is at most"), ConfigError);
}

TEST_SUITE_END();
