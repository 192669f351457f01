#include "camrt/json.hpp"
#include "camrt/result.hpp"
#include "check.hpp"

namespace json = camrt::json;

TEST("parse nested values, escapes and unicode") {
    const json::Value v = json::parse(R"( {"a": [1, -2.5e1, true, null], "s": "x\"\\\n\u00e9\ud83d\ude00", "o": {}} )");
    const auto& a = v.find("a")->as_array();
    CHECK_EQ(a.size(), 4u);
    CHECK_NEAR(a[1].as_number(), -25.0, 1e-12);
    CHECK(a[2].as_bool());
    CHECK(a[3].is_null());
    CHECK_EQ(v.find("s")->as_string(), std::string("x\"\\\n\xc3\xa9\xf0\x9f\x98\x80"));
    CHECK(v.find("o")->as_object().empty());
    CHECK(v.find("missing") == nullptr);
}

TEST("syntax errors carry line and column") {
    CHECK_THROWS_WITH(json::parse("{\"a\": 1,}"), json::ParseError, "expected a string key");
    CHECK_THROWS_WITH(json::parse("{\n  \"a\": 1,\n  \"a\": 2}"), json::ParseError,
                      "duplicate key 'a' at line 3, column 3");
    CHECK_THROWS_WITH(json::parse("[1, 2"), json::ParseError, "expected ',' or ']'");
    CHECK_THROWS_WITH(json::parse("\"abc"), json::ParseError, "unterminated string");
    CHECK_THROWS_WITH(json::parse("01"), json::ParseError, "unexpected text");
    CHECK_THROWS_WITH(json::parse("1e999"), json::ParseError, "out of range");
    CHECK_THROWS_WITH(json::parse("{} x"), json::ParseError, "line 1, column 4");
    CHECK_THROWS_WITH(json::parse(""), json::ParseError, "end of input");
}

TEST("dump round-trips") {
    const std::string text = R"({"labels":["a","b\"c"],"n":3,"x":0.25,"t":false,"z":null})";
    CHECK_EQ(json::dump(json::parse(text)), text);
}

TEST("FrameResult JSON line has the documented keys, order and precision") {
    camrt::FrameResult r;
    r.frame = 42;
    r.decision = 0;
    r.score = 0.87314f;
    r.raw_decision = -1;
    r.crops.push_back({camrt::Rect{0, 0, 480, 480}, {0.91234f, 0.08766f}, 0});
    r.crops.push_back({camrt::Rect{160, 0, 480, 480}, {0.4f, 0.6f}, -1});
    r.ms.capture = 1.2;
    r.ms.preprocess = 0.8124;
    r.ms.inference = 27.1;
    r.ms.postprocess = 0.0111;
    r.ms.total = 29.1235;
    const std::string line = camrt::to_json_line(r, {"bird", "not \"bird\""});
    CHECK_EQ(line, std::string("{\"frame\":42,\"decision\":\"bird\",\"score\":0.8731,\"raw\":null,\"crops\":["
                               "{\"x\":0,\"y\":0,\"w\":480,\"h\":480,\"vote\":\"bird\",\"scores\":{\"bird\":0.9123,"
                               "\"not \\\"bird\\\"\":0.0877}},"
                               "{\"x\":160,\"y\":0,\"w\":480,\"h\":480,\"vote\":null,\"scores\":{\"bird\":0.4000,"
                               "\"not \\\"bird\\\"\":0.6000}}],"
                               "\"ms\":{\"capture\":1.200,\"preprocess\":0.812,\"inference\":27.100,"
                               "\"postprocess\":0.011,\"total\":29.123}}"));
    CHECK(line.find('\n') == std::string::npos);
    // It is valid JSON for our own parser too.
    const json::Value v = json::parse(line);
    CHECK_EQ(v.find("crops")->as_array().size(), 2u);
    CHECK_THROWS_WITH(camrt::to_json_line(r, {"bird"}), std::invalid_argument, "2 scores for 1 labels");
}
