#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "camrt/config_watcher.hpp"
#include "check.hpp"

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/camrt_watch_XXXXXX";
    const char* d = mkdtemp(tmpl);
    return d ? d : "/tmp";
}

// Writes in place, then moves the mtime forward so the change is visible even on coarse clocks.
void write_file(const std::string& path, const std::string& text, int bump_s) {
    std::ofstream(path, std::ios::trunc) << text;
    struct stat st;
    stat(path.c_str(), &st);
    struct timespec times[2];
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    times[1].tv_sec += bump_s;
    utimensat(AT_FDCWD, path.c_str(), times, 0);
}

}  // namespace

TEST("reloads a good file, rejects a bad one and keeps the last good config") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 0.1})", 0);
    std::vector<std::string> log;
    camrt::ConfigWatcher w(path, 2, [&](const std::string& l) { log.push_back(l); });
    CHECK_EQ(w.generation(), 1u);
    CHECK(!w.poll());  // nothing changed

    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 0.3})", 1);
    CHECK(w.poll());
    CHECK_NEAR(w.current().penalty, 0.3, 1e-6);
    CHECK_EQ(w.generation(), 2u);
    CHECK(w.last_error().empty());

    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 3})", 2);  // out of range
    CHECK(!w.poll());
    CHECK_NEAR(w.current().penalty, 0.3, 1e-6);
    CHECK(w.last_error().find("'penalty' = 3 is out of range") != std::string::npos);
    CHECK(!log.empty() && log.back().find("rejected") != std::string::npos);
    CHECK(!w.poll());  // rejected once, not again until the file changes

    write_file(path, R"({"labels": ["a", "b", "c"]})", 3);  // label count differs from the model
    CHECK(!w.poll());
    CHECK(w.last_error().find("has 3 labels but the model has 2 outputs") != std::string::npos);

    write_file(path, "{\"labels\": [\"bird\", \"not_bird\"", 4);  // truncated JSON
    CHECK(!w.poll());
    CHECK(w.last_error().find("invalid JSON") != std::string::npos);
    CHECK_EQ(w.current().labels[0], std::string("bird"));

    write_file(path, R"({"labels": ["bird", "not_bird"], "k": 3})", 5);
    CHECK(w.poll());
    CHECK_EQ(w.current().k, 3);
    CHECK_NEAR(w.current().penalty, 0.1, 1e-6);  // a fresh config, not merged with the old one

    unlink(path.c_str());
    CHECK(!w.poll());
    CHECK(w.last_error().find("cannot open") != std::string::npos);
    CHECK_EQ(w.current().k, 3);
    rmdir(dir.c_str());
}

TEST("a replaced file (rename over it) is noticed through the inode") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    const std::string tmp = dir + "/config.json.tmp";
    write_file(path, R"({"labels": ["a", "b"], "k": 1})", 0);
    camrt::ConfigWatcher w(path, 0, [](const std::string&) {});
    std::ofstream(tmp) << R"({"labels": ["a", "b"], "k": 2})";  // same size
    struct stat st;
    stat(path.c_str(), &st);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, tmp.c_str(), times, 0);  // same mtime too: only the inode differs
    rename(tmp.c_str(), path.c_str());
    CHECK(w.poll());
    CHECK_EQ(w.current().k, 2);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST("SIGHUP and request_reload force a reload without a file change") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["a", "b"]})", 0);
    int lines = 0;
    camrt::ConfigWatcher w(path, 0, [&](const std::string&) { ++lines; });
    CHECK(!w.poll());
    camrt::install_sighup_handler();
    raise(SIGHUP);  // the handler only raises the flag; the process keeps running
    CHECK(w.poll());
    CHECK_EQ(w.generation(), 2u);
    CHECK(!w.poll());  // the flag was consumed
    w.request_reload();
    CHECK(w.poll());
    CHECK_EQ(w.generation(), 3u);
    CHECK_EQ(lines, 2);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST("a bad first file throws: there is no good config to keep") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["a"], "colour": "RGB"})", 0);
    CHECK_THROWS_WITH(camrt::ConfigWatcher(path, 0, [](const std::string&) {}), camrt::ConfigError,
                      "unknown key 'colour'");
    CHECK_THROWS_WITH(camrt::ConfigWatcher(dir + "/nope.json"), camrt::ConfigError, "cannot open");
    unlink(path.c_str());
    rmdir(dir.c_str());
}
