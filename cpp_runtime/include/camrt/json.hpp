// JSON for configs and the tensor server's hello line: nlohmann/json (header-only, Debian's
// nlohmann-json3-dev) with what a config file needs on top of it: duplicate keys refused, a size and a
// nesting cap, non-finite numbers refused, and errors that give the line and column and quote at most a
// short excerpt of the text. Plus the two writers the output line uses.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace camrt {
namespace json {

// Objects keep the file's key order, so an error names the first bad key as the user wrote it.
using Value = nlohmann::ordered_json;

class ParseError : public std::runtime_error {
   public:
    ParseError(const std::string& msg, int line, int column)
        : std::runtime_error(msg + " at line " + std::to_string(line) + ", column " + std::to_string(column)),
          line_(line),
          column_(column) {}
    int line() const { return line_; }
    int column() const { return column_; }

   private:
    int line_;
    int column_;
};

struct ParseLimits {
    std::size_t max_bytes = 64 * 1024;  // a config is a few hundred bytes
    int max_depth = 16;                 // containers inside containers; a config needs 2
};

// Parses one JSON document (RFC 8259, UTF-8). Throws ParseError ("invalid JSON: <reason> at line L, column C")
// for a syntax error, a duplicate key, nesting deeper than limits.max_depth, a number out of double's range
// or text longer than limits.max_bytes (checked before parsing).
Value parse(const std::string& text, const ParseLimits& limits = {});

// The member `key` of an object, or nullptr when absent (or when v is not an object).
const Value* member(const Value& v, const char* key);

// At most max_chars bytes of s for an error message, cut at a UTF-8 character boundary, "..." when cut;
// bytes that are not valid UTF-8 are written as \xNN, so the message is always valid UTF-8.
std::string excerpt(const std::string& s, std::size_t max_chars = 40);

// Writes a JSON string literal (invalid UTF-8 becomes U+FFFD instead of failing).
void write_string(std::string& out, const std::string& s);
// A number with a fixed count of decimals ("0.1235"); non-finite values become null.
void write_fixed(std::string& out, double v, int decimals);
// The shortest decimal that reads back as the same float (0.6f -> 0.6, not 0.60000002384185791).
double float_value(float f);

}  // namespace json
}  // namespace camrt
