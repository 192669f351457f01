// A tiny self-contained test framework (no dependency): TEST(name) { ... } with CHECK macros.
// The test binary runs the tests of one suite (source file test_<suite>.cpp) or all of them, prints
// failures with file:line, and exits non-zero when any check failed.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace check {

struct Test {
    std::string name;
    std::string file;  // source file: "suites" are files
    std::function<void()> fn;
};

struct Registry {
    std::vector<Test> tests;
    int failures = 0;
    static Registry& get() {
        static Registry r;
        return r;
    }
};

struct Register {
    Register(const char* name, const char* file, std::function<void()> fn) {
        Registry::get().tests.push_back(Test{name, file, std::move(fn)});
    }
};

inline void fail(const char* file, int line, const std::string& what) {
    ++Registry::get().failures;
    std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
std::string describe(const char* expr, const A& a, const B& b) {
    std::ostringstream os;
    os << expr << " (" << a << " vs " << b << ")";
    return os.str();
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST(name)                                                                                         \
    static void CHECK_CAT(test_fn_, __LINE__)();                                                           \
    static check::Register CHECK_CAT(test_reg_, __LINE__)(name, __FILE__, &CHECK_CAT(test_fn_, __LINE__)); \
    static void CHECK_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                          \
    do {                                                     \
        if (!(cond)) check::fail(__FILE__, __LINE__, #cond); \
    } while (0)

#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        const auto check_a_ = (a); /* copies: (a) may be a part of a temporary */               \
        const auto check_b_ = (b);                                                              \
        if (!(check_a_ == check_b_))                                                            \
            check::fail(__FILE__, __LINE__, check::describe(#a " == " #b, check_a_, check_b_)); \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                        \
        const double check_a_ = (a);                                                            \
        const double check_b_ = (b);                                                            \
        if (!(std::fabs(check_a_ - check_b_) <= (tol)))                                         \
            check::fail(__FILE__, __LINE__, check::describe(#a " ~= " #b, check_a_, check_b_)); \
    } while (0)

// The expression must throw `type` whose what() contains `substring`.
#define CHECK_THROWS_WITH(expr, type, substring)                                                                    \
    do {                                                                                                            \
        bool check_thrown_ = false;                                                                                 \
        try {                                                                                                       \
            (void)(expr);                                                                                           \
        } catch (const type& check_e_) {                                                                            \
            check_thrown_ = true;                                                                                   \
            if (std::string(check_e_.what()).find(substring) == std::string::npos)                                  \
                check::fail(__FILE__, __LINE__,                                                                     \
                            std::string(#expr " threw '") + check_e_.what() + "', expected '" + (substring) + "'"); \
        } catch (...) {                                                                                             \
            check_thrown_ = true;                                                                                   \
            check::fail(__FILE__, __LINE__, #expr " threw another exception type than " #type);                     \
        }                                                                                                           \
        if (!check_thrown_) check::fail(__FILE__, __LINE__, #expr " did not throw " #type);                         \
    } while (0)
