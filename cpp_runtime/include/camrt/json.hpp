// A small JSON value, parser and writer (enough for configs and the output lines; no dependency).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace camrt {
namespace json {

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

enum class Type { Null, Bool, Number, String, Array, Object };
const char* type_name(Type t);

class Value {
   public:
    using Array = std::vector<Value>;
    using Object = std::vector<std::pair<std::string, Value>>;  // keeps the file's key order

    Value() = default;
    static Value boolean(bool b);
    static Value number(double d);
    static Value string(std::string s);
    static Value array(Array a);
    static Value object(Object o);

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool as_bool() const;  // throws std::runtime_error on the wrong type
    double as_number() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    const Object& as_object() const;
    const Value* find(const std::string& key) const;  // objects only; nullptr when absent

   private:
    Type type_ = Type::Null;
    bool b_ = false;
    double d_ = 0.0;
    std::string s_;
    std::shared_ptr<Array> a_;
    std::shared_ptr<Object> o_;
};

// Parses one JSON document (RFC 8259; duplicate keys are an error). Throws ParseError.
Value parse(const std::string& text);

// Writes a JSON string literal with escapes.
void write_string(std::string& out, const std::string& s);
// Compact serialisation; numbers that are integers are written without a fraction.
std::string dump(const Value& v);
// A number with a fixed count of decimals ("0.1235"); non-finite values become null.
void write_fixed(std::string& out, double v, int decimals);

}  // namespace json
}  // namespace camrt
