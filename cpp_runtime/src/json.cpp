#include "camrt/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace camrt {
namespace json {

const char* type_name(Type t) {
    switch (t) {
        case Type::Null: return "null";
        case Type::Bool: return "boolean";
        case Type::Number: return "number";
        case Type::String: return "string";
        case Type::Array: return "array";
        case Type::Object: return "object";
    }
    return "?";
}

Value Value::boolean(bool b) {
    Value v;
    v.type_ = Type::Bool;
    v.b_ = b;
    return v;
}
Value Value::number(double d) {
    Value v;
    v.type_ = Type::Number;
    v.d_ = d;
    return v;
}
Value Value::string(std::string s) {
    Value v;
    v.type_ = Type::String;
    v.s_ = std::move(s);
    return v;
}
Value Value::array(Array a) {
    Value v;
    v.type_ = Type::Array;
    v.a_ = std::make_shared<Array>(std::move(a));
    return v;
}
Value Value::object(Object o) {
    Value v;
    v.type_ = Type::Object;
    v.o_ = std::make_shared<Object>(std::move(o));
    return v;
}

namespace {
[[noreturn]] void wrong_type(Type want, Type got) {
    throw std::runtime_error(std::string("expected a JSON ") + type_name(want) + ", got " + type_name(got));
}
}  // namespace

bool Value::as_bool() const {
    if (type_ != Type::Bool) wrong_type(Type::Bool, type_);
    return b_;
}
double Value::as_number() const {
    if (type_ != Type::Number) wrong_type(Type::Number, type_);
    return d_;
}
const std::string& Value::as_string() const {
    if (type_ != Type::String) wrong_type(Type::String, type_);
    return s_;
}
const Value::Array& Value::as_array() const {
    if (type_ != Type::Array) wrong_type(Type::Array, type_);
    return *a_;
}
const Value::Object& Value::as_object() const {
    if (type_ != Type::Object) wrong_type(Type::Object, type_);
    return *o_;
}
const Value* Value::find(const std::string& key) const {
    for (const auto& kv : as_object()) {
        if (kv.first == key) return &kv.second;
    }
    return nullptr;
}

namespace {

class Parser {
   public:
    explicit Parser(const std::string& t) : t_(t) {}

    Value document() {
        skip_ws();
        Value v = value(0);
        skip_ws();
        if (pos_ != t_.size()) fail("unexpected text after the JSON value");
        return v;
    }

   private:
    const std::string& t_;
    std::size_t pos_ = 0;

    [[noreturn]] void fail(const std::string& msg) const {
        int line = 1, col = 1;
        for (std::size_t i = 0; i < pos_ && i < t_.size(); ++i) {
            if (t_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw ParseError("invalid JSON: " + msg, line, col);
    }
    bool at_end() const { return pos_ >= t_.size(); }
    char peek() const { return at_end() ? '\0' : t_[pos_]; }
    void skip_ws() {
        while (!at_end() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) ++pos_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    void literal(const char* word) {
        for (const char* p = word; *p; ++p) {
            if (peek() != *p) fail(std::string("invalid literal (expected '") + word + "')");
            ++pos_;
        }
    }

    Value value(int depth) {
        if (depth > 64) fail("nesting deeper than 64 levels");
        if (at_end()) fail("unexpected end of input");
        const char c = peek();
        if (c == '{') return object(depth);
        if (c == '[') return array(depth);
        if (c == '"') return Value::string(string());
        if (c == 't') {
            literal("true");
            return Value::boolean(true);
        }
        if (c == 'f') {
            literal("false");
            return Value::boolean(false);
        }
        if (c == 'n') {
            literal("null");
            return Value();
        }
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        fail(std::string("unexpected character '") + c + "'");
    }

    Value object(int depth) {
        expect('{');
        Value::Object members;
        std::set<std::string> seen;
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return Value::object(std::move(members));
        }
        for (;;) {
            skip_ws();
            if (peek() != '"') fail("expected a string key");
            const std::size_t key_pos = pos_;
            std::string key = string();
            if (!seen.insert(key).second) {
                pos_ = key_pos;
                fail("duplicate key '" + key + "'");
            }
            skip_ws();
            expect(':');
            skip_ws();
            members.emplace_back(std::move(key), value(depth + 1));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return Value::object(std::move(members));
            }
            fail("expected ',' or '}'");
        }
    }

    Value array(int depth) {
        expect('[');
        Value::Array items;
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return Value::array(std::move(items));
        }
        for (;;) {
            skip_ws();
            items.push_back(value(depth + 1));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return Value::array(std::move(items));
            }
            fail("expected ',' or ']'");
        }
    }

    unsigned hex4() {
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = peek();
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else
                fail("invalid \\u escape");
            ++pos_;
        }
        return v;
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string");
            const char c = t_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) {
                --pos_;
                fail("control character in string");
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_end()) fail("unterminated string");
            const char e = t_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00) {  // surrogate pair
                        if (peek() != '\\') fail("unpaired surrogate");
                        ++pos_;
                        if (peek() != 'u') fail("unpaired surrogate");
                        ++pos_;
                        const unsigned lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp < 0xE000) {
                        fail("unpaired surrogate");
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: --pos_; fail(std::string("invalid escape '\\") + e + "'");
            }
        }
    }

    Value number() {
        const std::size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++pos_;
        } else {
            fail("invalid number");
        }
        if (peek() == '.') {
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("invalid number: digits expected after '.'");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) fail("invalid number: digits expected in the exponent");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        }
        // strtod on a copy: the grammar is already checked, and the copy is NUL-terminated.
        const std::string text = t_.substr(start, pos_ - start);
        const double d = std::strtod(text.c_str(), nullptr);
        if (!std::isfinite(d)) {
            pos_ = start;
            fail("number out of range");
        }
        return Value::number(d);
    }
};

}  // namespace

Value parse(const std::string& text) { return Parser(text).document(); }

void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char ch : s) {
        const unsigned char c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void write_fixed(std::string& out, double v, int decimals) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    // "-0.0000" reads oddly in logs; print it as zero.
    std::string s(buf);
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    out += s;
}

namespace {
void dump_into(std::string& out, const Value& v) {
    switch (v.type()) {
        case Type::Null: out += "null"; break;
        case Type::Bool: out += v.as_bool() ? "true" : "false"; break;
        case Type::Number: {
            const double d = v.as_number();
            char buf[64];
            if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
                std::snprintf(buf, sizeof buf, "%.0f", d);
            } else if (std::isfinite(d)) {
                std::snprintf(buf, sizeof buf, "%.9g", d);
            } else {
                std::snprintf(buf, sizeof buf, "null");
            }
            out += buf;
            break;
        }
        case Type::String: write_string(out, v.as_string()); break;
        case Type::Array: {
            out += '[';
            bool first = true;
            for (const Value& item : v.as_array()) {
                if (!first) out += ',';
                first = false;
                dump_into(out, item);
            }
            out += ']';
            break;
        }
        case Type::Object: {
            out += '{';
            bool first = true;
            for (const auto& kv : v.as_object()) {
                if (!first) out += ',';
                first = false;
                write_string(out, kv.first);
                out += ':';
                dump_into(out, kv.second);
            }
            out += '}';
            break;
        }
    }
}
}  // namespace

std::string dump(const Value& v) {
    std::string out;
    dump_into(out, v);
    return out;
}

}  // namespace json
}  // namespace camrt
