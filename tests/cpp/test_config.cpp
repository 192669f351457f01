#include "camrt/config.hpp"
#include "check.hpp"

using camrt::ConfigError;
using camrt::parse_config;

TEST("full config parses") {
    const camrt::Config c = parse_config(R"({
        "labels": ["bird", "not_bird"], "thresholds": {"bird": 0.7}, "penalty": 0.15, "k": 3,
        "n_crops": 3, "hysteresis": 4, "fallback": "not_bird", "softmax": false, "color_order": "BGR",
        "output_port": 9000, "model": "m.rknn", "max_fps": 12.5})");
    CHECK_EQ(c.labels.size(), 2u);
    CHECK_NEAR(c.thresholds[0], 0.7, 1e-6);
    CHECK_NEAR(c.thresholds[1], 0.5, 1e-6);  // default
    CHECK_NEAR(c.penalty, 0.15, 1e-6);
    CHECK_EQ(c.k, 3);
    CHECK_EQ(c.hysteresis, 4);
    CHECK_EQ(c.fallback, 1);
    CHECK(!c.softmax);
    CHECK(c.color_order == camrt::ColorOrder::BGR);
    CHECK_EQ(c.output_port, 9000);
    CHECK_EQ(c.model, std::string("m.rknn"));
    CHECK_NEAR(c.max_fps, 12.5, 1e-9);
}

TEST("defaults") {
    const camrt::Config c = parse_config(R"({"labels": ["a", "b", "c"]})");
    CHECK_EQ(c.n_crops, 3);
    CHECK_EQ(c.k, 2);
    CHECK_EQ(c.fallback, -1);
    CHECK(c.softmax);
    CHECK(c.color_order == camrt::ColorOrder::RGB);
    CHECK_EQ(parse_config(R"({"labels": ["a"], "n_crops": 1})").k, 1);
}

TEST("specific errors") {
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "tresholds": {}})"), ConfigError,
                      "unknown key 'tresholds' (allowed: labels, thresholds");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "penalty": 1.5})"), ConfigError,
                      "'penalty' = 1.5 is out of range [0, 1]");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "k": 4})"), ConfigError, "'k' = 4 is out of range [1, 3]");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "n_crops": 5, "k": 2.5})"), ConfigError,
                      "'k' = 2.5 must be an integer");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "output_port": 70000})"), ConfigError,
                      "'output_port' = 70000 is out of range [0, 65535]");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "penalty": "high"})"), ConfigError,
                      "'penalty' must be a number, got string");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a", "b"], "thresholds": {"c": 0.5}})"), ConfigError,
                      "unknown label 'c' (labels: a, b)");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "thresholds": {"a": -0.1}})"), ConfigError,
                      "'thresholds.a' = -0.1 is out of range [0, 1]");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a", "a"]})"), ConfigError, "lists 'a' twice");
    CHECK_THROWS_WITH(parse_config(R"({"labels": []})"), ConfigError, "has 0 entries");
    CHECK_THROWS_WITH(parse_config(R"({"penalty": 0.1})"), ConfigError, "'labels' is missing");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "fallback": "b"})"), ConfigError, "not one of the labels");
    CHECK_THROWS_WITH(parse_config(R"({"labels": ["a"], "color_order": "rgb"})"), ConfigError, "allowed: RGB, BGR");
    CHECK_THROWS_WITH(parse_config("[1]"), ConfigError, "top level must be an object");
    CHECK_THROWS_WITH(parse_config("{\"labels\": [\"a\"],\n \"k\": }"), ConfigError, "line 2");
}

TEST("label count against the model") {
    const camrt::Config c = parse_config(R"({"labels": ["a", "b", "c"]})");
    CHECK_THROWS_WITH(camrt::check_model_classes(c, 2), ConfigError, "has 3 labels but the model has 2 outputs");
    camrt::check_model_classes(c, 3);
}

TEST("config_to_json round-trips every field") {
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
