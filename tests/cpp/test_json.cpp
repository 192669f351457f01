#include <doctest/doctest.h>

#include <stdexcept>

#include "camrt/config.hpp"
#include "camrt/json.hpp"
#include "camrt/result.hpp"

TEST_SUITE_BEGIN("json");

namespace json = camrt::json;

TEST_CASE("parse nested values, escapes and unicode, keeping the key order") {
    const json::Value v =
        json::parse(R"( {"z": 0, "a": [1, -2.5e1, true, null], "s": "x\"\\\n\u00e9\ud83d\ude00", "o": {}} )");
    const json::Value& a = *json::member(v, "a");
    CHECK_EQ(a.size(), 4u);
    CHECK(a[1].get<double>() == doctest::Approx(-25.0).epsilon(1e-12));
    CHECK(a[2].get<bool>());
    CHECK(a[3].is_null());
    CHECK_EQ(json::member(v, "s")->get<std::string>(), std::string("x\"\\\n\xc3\xa9\xf0\x9f\x98\x80"));
    CHECK(json::member(v, "o")->empty());
    CHECK(json::member(v, "missing") == nullptr);
    CHECK(json::member(a, "a") == nullptr);       // not an object
    CHECK_EQ(v.begin().key(), std::string("z"));  // the file's order, not sorted
}

TEST_CASE("syntax errors carry line and column") {
    CHECK_THROWS_WITH_AS(json::parse("{\"a\": 1,}"), doctest::Contains("at line 1, column 9"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("[1, 2"), doctest::Contains("invalid JSON"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("\"abc"), doctest::Contains("missing closing quote"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("01"), doctest::Contains("line 1, column 2"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("{} x"), doctest::Contains("line 1, column 4"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("{\n  \"k\": tru\n}"), doctest::Contains("line 2, column"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse(""), doctest::Contains("unexpected end of input"), json::ParseError);
    try {
        json::parse("{\n\n   \"a\": [1,,2]}");
        FAIL("no error");
    } catch (const json::ParseError& e) {
        CHECK_EQ(e.line(), 3);
        CHECK_EQ(e.column(), 12);  // the second comma
    }
}

TEST_CASE("duplicate keys are refused where the second one starts, at any depth") {
    CHECK_THROWS_WITH_AS(json::parse("{\n  \"a\": 1,\n  \"a\": 2}"),
                         doctest::Contains("duplicate key 'a' at line 3, column 3"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse(R"({"o": {"k\"q": 1, "k\"q": 2}})"),
                         doctest::Contains("duplicate key 'k\"q' at line 1, column 19"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse(R"({"a": {"x": 1}, "b": {"x": 1}, "a": 0})"),
                         doctest::Contains("duplicate key 'a'"), json::ParseError);
    CHECK_NOTHROW(json::parse(R"([{"x": 1}, {"x": 2}])"));  // the same key in two objects is fine
}

TEST_CASE("numbers out of double's range, invalid UTF-8 and control characters are refused") {
    CHECK_THROWS_WITH_AS(json::parse("[1e999]"),
                         doctest::Contains("number out of range (number overflow parsing '1e999') at line 1, column 7"),
                         json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("[-1e999]"), doctest::Contains("out of range"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse("[\"caf\xe9\"]"), doctest::Contains("UTF-8 byte; last read: '\"caf\\xE9\"'"),
                         json::ParseError);  // Latin-1, quoted as valid UTF-8
    CHECK_THROWS_WITH_AS(json::parse("[\"a\tb\"]"), doctest::Contains("control character"), json::ParseError);
    CHECK_THROWS_WITH_AS(json::parse(std::string("{}\0{\"x\": 1}", 12)),
                         doctest::Contains("NUL byte in the text (a corrupt file?) at line 1, column 3"),
                         json::ParseError);
}

TEST_CASE("size and nesting caps, and errors quote only a short excerpt") {
    json::ParseLimits lim;
    lim.max_bytes = 100;
    lim.max_depth = 4;
    CHECK_THROWS_WITH_AS(json::parse(std::string(101, ' '), lim), doctest::Contains("101 bytes, more than the 100"),
                         json::ParseError);
    CHECK_NOTHROW(json::parse("[[[[1]]]]", lim));
    CHECK_THROWS_WITH_AS(json::parse("[[[[[1]]]]]", lim),
                         doctest::Contains("nesting deeper than 4 levels at line 1, column 5"), json::ParseError);
    // 100,000 levels under the default caps: refused at level 17, no deep recursion anywhere.
    CHECK_THROWS_WITH_AS(
        json::parse(std::string(100000, '[') + std::string(100000, ']'), json::ParseLimits{1 << 20, 16}),
        doctest::Contains("nesting deeper than 16"), json::ParseError);
    // An unterminated 50 KB string: the message stays short.
    try {
        json::parse("[\"" + std::string(50000, 'x'));
        FAIL("no error");
    } catch (const json::ParseError& e) {
        CHECK(std::string(e.what()).size() < 300);
        CHECK(std::string(e.what()).find("xxx...") != std::string::npos);
    }
    CHECK_EQ(json::excerpt(std::string(10, 'a'), 40), std::string(10, 'a'));
    CHECK_EQ(json::excerpt(std::string(50, 'a'), 40), std::string(40, 'a') + "...");
    CHECK_EQ(json::excerpt("ab\xc3\xa9"
                           "cd",
                           3),
             std::string("ab..."));  // never half a UTF-8 character
    CHECK_EQ(json::excerpt("r\xe9"
                           "d\xc3",
                           40),
             std::string("r\\xE9"
                         "d\\xC3"));  // not UTF-8: escaped
}

TEST_CASE("writers: string escapes, fixed decimals, shortest float") {
    std::string out;
    json::write_string(out, "a\"b\\c\n\x01\xff");
    CHECK_EQ(out, std::string("\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\""));  // invalid UTF-8 -> U+FFFD
    out.clear();
    json::write_fixed(out, -0.00001, 4);
    json::write_fixed(out, 1.23456, 2);
    json::write_fixed(out, std::nan(""), 3);
    CHECK_EQ(out, std::string("0.00001.23null"));
    CHECK_EQ(json::float_value(0.6f), 0.6);
    CHECK_EQ(static_cast<float>(json::float_value(0.1f + 0.2f)), 0.1f + 0.2f);
    for (float f : {1e-7f, 3.14159274f, 123456.789f, 0.333333343f})
        CHECK_EQ(static_cast<float>(json::float_value(f)), f);
}

TEST_CASE("FrameResult JSON line has the documented keys, order and precision") {
    camrt::FrameResult r;
    r.frame = 42;
    r.decision = 0;
    r.score = 0.87314f;
    r.raw_decision = -1;
    r.crops.push_back({camrt::Rect{0, 0, 480, 480}, {0.91234f, 0.08766f}, 0});
    r.crops.push_back({camrt::Rect{160, 0, 480, 480}, {0.4f, 0.6f}, -1});
    r.vote.candidate = 0;
    r.vote.votes = 1;
    r.vote.need = 2;
    r.vote.score = 0.55617f;
    r.vote.threshold = 0.6f;
    r.vote.penalty = 0.1f;
    r.vote.hysteresis = 3;
    r.vote.pending = 1;
    r.vote.pending_count = 2;
    r.ms.capture = 1.2;
    r.ms.preprocess = 0.8124;
    r.ms.inference = 27.1;
    r.ms.postprocess = 0.0111;
    r.ms.total = 29.1235;
    r.fps = 9.876;
    r.dropped = 7;
    const std::string line = camrt::to_json_line(r, {"bird", "not \"bird\""});
    // No mean from a voter: "scores" is the mean of the crops' scores.
    CHECK_EQ(line, std::string("{\"schema\":1,\"board\":\"rv1103\",\"frame\":42,\"label\":\"bird\",\"score\":0.8731,"
                               "\"scores\":{\"bird\":0.6562,\"not \\\"bird\\\"\":0.3438},"
                               "\"raw\":{\"label\":null,\"score\":0.0000},"
                               "\"ms\":{\"capture\":1.200,\"preprocess\":0.812,\"inference\":27.100,"
                               "\"postprocess\":0.011,\"total\":29.123},\"fps\":9.88,\"dropped\":7,"
                               "\"vote\":{\"candidate\":\"bird\",\"votes\":1,\"need\":2,\"score\":0.5562,"
                               "\"threshold\":0.6000,\"penalty\":0.1000,"
                               "\"hysteresis\":{\"frames\":3,\"pending\":\"not \\\"bird\\\"\",\"count\":2}},"
                               "\"crops\":["
                               "{\"x\":0,\"y\":0,\"w\":480,\"h\":480,\"vote\":\"bird\",\"scores\":{\"bird\":0.9123,"
                               "\"not \\\"bird\\\"\":0.0877}},"
                               "{\"x\":160,\"y\":0,\"w\":480,\"h\":480,\"vote\":null,\"scores\":{\"bird\":0.4000,"
                               "\"not \\\"bird\\\"\":0.6000}}]}"));
    CHECK(line.find('\n') == std::string::npos);
    // It is valid JSON for the parser too.
    const json::Value v = json::parse(line);
    CHECK_EQ(json::member(v, "crops")->size(), 2u);
    CHECK_THROWS_WITH_AS(camrt::to_json_line(r, {"bird"}), doctest::Contains("class index 1 has no label"),
                         std::invalid_argument);
    r.vote.pending = 0;
    CHECK_THROWS_WITH_AS(camrt::to_json_line(r, {"bird"}), doctest::Contains("2 scores for 1 labels"),
                         std::invalid_argument);
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("json");

TEST_CASE("a config reload is told as old -> new per key, and as a schema event line") {
    const camrt::Config a = camrt::parse_config(R"({"labels": ["bird", "not_bird"], "k": 2, "hysteresis": 0})");
    const camrt::Config b =
        camrt::parse_config(R"({"labels": ["bird", "not_bird"], "k": 3, "hysteresis": 3, "fallback": "not_bird"})");
    const auto changes = camrt::config_changes(a, b);
    REQUIRE_EQ(changes.size(), 3u);
    CHECK_EQ(camrt::describe_changes(changes), "k 2 -> 3, hysteresis 0 -> 3, fallback null -> \"not_bird\"");
    CHECK(camrt::config_changes(a, a).empty());
    CHECK_EQ(camrt::describe_changes({}), "nothing changed");
    const json::Value v = json::parse(camrt::config_event_line(57, true, changes, "config reloaded"));
    CHECK_EQ(v["schema"], 1);
    CHECK_EQ(v["event"], "config");
    CHECK_EQ(v["frame"], 57);
    CHECK_EQ(v["changes"]["k"], json::Value::array({2, 3}));
    CHECK_EQ(v["changes"]["fallback"][1], "not_bird");
    const json::Value r = json::parse(camrt::config_event_line(3, false, {}, "bad \"file\""));
    CHECK_EQ(r["accepted"], false);
    CHECK_EQ(r["message"], "bad \"file\"");
}

TEST_SUITE_END();
