#include "camrt/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <set>
#include <vector>

namespace camrt {
namespace json {

namespace {

// Feeds the text to nlohmann's lexer and remembers how far it has read: the parser callback, where
// duplicate keys and the nesting cap are checked, is not told the position.
class TrackedIt {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    TrackedIt(const char* p, const char** mark) : p_(p), mark_(mark) {}
    reference operator*() const { return *p_; }
    TrackedIt& operator++() {
        *mark_ = ++p_;
        return *this;
    }
    TrackedIt operator++(int) {
        TrackedIt old = *this;
        ++*this;
        return old;
    }
    bool operator==(const TrackedIt& o) const { return p_ == o.p_; }
    bool operator!=(const TrackedIt& o) const { return p_ != o.p_; }

   private:
    const char* p_;
    const char** mark_;
};

// 1-based line and column of byte `offset` (0-based) of the text.
void line_col(const std::string& t, std::size_t offset, int& line, int& col) {
    line = 1;
    col = 1;
    for (std::size_t i = 0; i < offset && i < t.size(); ++i) {
        if (t[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
}

[[noreturn]] void fail_at(const std::string& t, std::size_t offset, const std::string& msg) {
    int line, col;
    line_col(t, offset, line, col);
    throw ParseError("invalid JSON: " + msg, line, col);
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix
// (or "[json.exception.out_of_range.406] "),
// with the token it quotes ("last read: '...'", the whole string so far for an unterminated one) shortened.
std::string library_reason(const std::string& what) {
    std::string s = what;
    const auto colon = s.find(": ");
    if (s.compare(0, 16, "[json.exception.") == 0) {
        const auto bracket = s.find("] ");
        if (s.find("parse error") != std::string::npos && colon != std::string::npos) {
            s.erase(0, colon + 2);
        } else if (bracket != std::string::npos) {
            s.erase(0, bracket + 2);
        }
    }
    const std::string tag = "; last read: '";
    const auto q = s.find(tag);
    if (q != std::string::npos) {
        const std::size_t start = q + tag.size();
        const std::size_t end = s.size() > start && s.back() == '\'' ? s.size() - 1 : s.size();
        s = s.substr(0, start) + excerpt(s.substr(start, end - start)) + "'";
    } else {
        const auto p = s.find(" parsing '");  // "number overflow parsing '1e999'"
        if (p != std::string::npos && s.back() == '\'')
            s = s.substr(0, p + 10) + excerpt(s.substr(p + 10, s.size() - p - 11)) + "'";
    }
    return s;
}

}  // namespace

Value parse(const std::string& text, const ParseLimits& limits) {
    if (text.size() > limits.max_bytes) {
        throw ParseError("invalid JSON: the text is " + std::to_string(text.size()) + " bytes, more than the " +
                             std::to_string(limits.max_bytes) + " allowed",
                         1, 1);
    }
    // nlohmann's lexer takes a NUL byte for the end of the input and would ignore whatever follows it.
    const std::size_t nul = text.find('\0');
    if (nul != std::string::npos) fail_at(text, nul, "NUL byte in the text (a corrupt file?)");
    const char* mark = text.data();
    std::vector<std::set<std::string>> keys;  // the keys seen so far in each open object
    auto check = [&](int depth, nlohmann::ordered_json::parse_event_t ev, Value& parsed) {
        using E = nlohmann::ordered_json::parse_event_t;
        const std::size_t pos = static_cast<std::size_t>(mark - text.data());
        switch (ev) {
            case E::object_start:
            case E::array_start:
                if (depth >= limits.max_depth) {
                    fail_at(text, pos ? pos - 1 : 0,
                            "nesting deeper than " + std::to_string(limits.max_depth) + " levels");
                }
                if (ev == E::object_start) keys.emplace_back();
                break;
            case E::object_end: keys.pop_back(); break;
            case E::key: {
                const std::string& k = parsed.get_ref<const std::string&>();
                if (!keys.back().insert(k).second) {
                    // The lexer stopped just after the key's closing quote: go back to its opening one.
                    std::size_t start = pos >= 2 ? pos - 2 : 0;
                    while (start > 0) {
                        if (text[start] == '"') {
                            std::size_t bs = 0;
                            while (bs < start && text[start - 1 - bs] == '\\') ++bs;
                            if (bs % 2 == 0) break;
                        }
                        --start;
                    }
                    fail_at(text, start, "duplicate key '" + excerpt(k) + "'");
                }
                break;
            }
            case E::value:
            case E::array_end: break;
        }
        return true;
    };
    try {
        return Value::parse(TrackedIt(text.data(), &mark), TrackedIt(text.data() + text.size(), &mark), check);
    } catch (const nlohmann::ordered_json::parse_error& e) {
        // e.byte counts the characters read, the offending one included.
        fail_at(text, e.byte ? e.byte - 1 : 0, library_reason(e.what()));
    } catch (const nlohmann::ordered_json::out_of_range& e) {  // a number beyond double's range (1e999)
        const std::size_t pos = static_cast<std::size_t>(mark - text.data());
        fail_at(text, pos ? pos - 1 : 0, "number out of range (" + library_reason(e.what()) + ")");
    }
}

const Value* member(const Value& v, const char* key) {
    if (!v.is_object()) return nullptr;
    const auto it = v.find(key);
    return it == v.end() ? nullptr : &*it;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
std::size_t utf8_len(const std::string& s, std::size_t i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    }
    return n;
}

std::string excerpt(const std::string& s, std::size_t max_chars) {
    // Whole characters only, bytes that are not UTF-8 (a Latin-1 file) written as \xNN: a log line stays
    // valid UTF-8 whatever the file held.
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = utf8_len(s, i);
        if (i + (n ? n : 1) > max_chars) return out + "...";
        if (n == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
            out += buf;
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

void write_string(std::string& out, const std::string& s) {
    out += Value(s).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
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

double float_value(float f) {
    if (!std::isfinite(f)) return f;
    char buf[32];
    for (int digits = 6; digits < 9; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(f));
        if (std::strtof(buf, nullptr) == f) return std::strtod(buf, nullptr);
    }
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));  // 9 digits always read back exactly
    return std::strtod(buf, nullptr);
}

}  // namespace json
}  // namespace camrt
