// Runs the tests of one suite (`camrt_tests planner` runs test_planner.cpp) or, without argument, all.
#include <cstdio>
#include <exception>
#include <string>

#include "check.hpp"

int main(int argc, char** argv) {
    auto& reg = check::Registry::get();
    const std::string suite = argc > 1 ? std::string("test_") + argv[1] + ".cpp" : "";
    int run = 0;
    for (auto& t : reg.tests) {
        const std::string base = t.file.substr(t.file.find_last_of('/') + 1);
        if (!suite.empty() && base != suite) continue;
        const int before = reg.failures;
        try {
            t.fn();
        } catch (const std::exception& e) {
            check::fail(t.file.c_str(), 0, "test '" + t.name + "' threw: " + e.what());
        }
        ++run;
        std::printf("%s %s\n", reg.failures == before ? "ok  " : "FAIL", t.name.c_str());
    }
    std::printf("%d tests, %d failed checks\n", run, reg.failures);
    return reg.failures == 0 && run > 0 ? 0 : 1;
}
