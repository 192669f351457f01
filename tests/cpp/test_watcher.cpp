#include <doctest/doctest.h>
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

TEST_SUITE_BEGIN("watcher");

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

// A clock the test moves by hand: the watcher's settle time is checked without sleeping.
struct ManualClock {
    std::uint64_t ns = 1000;
    camrt::ConfigWatcher::Clock fn() {
        return [this] { return ns; };
    }
};

// What a change that stays put gets: a first poll sees it, a poll settle-time later acts on it.
bool poll_settled(camrt::ConfigWatcher& w, ManualClock& clock) {
    const bool first = w.poll();
    clock.ns += camrt::ConfigWatcher::kSettleNs;
    return w.poll() || first;
}

}  // namespace

TEST_CASE("reloads a good file, rejects a bad one and keeps the last good config") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 0.1})", 0);
    std::vector<std::string> log;
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 2, [&](const std::string& l) { log.push_back(l); }, clock.fn());
    CHECK_EQ(w.generation(), 1u);
    CHECK(!poll_settled(w, clock));  // nothing changed

    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 0.3})", 1);
    CHECK(poll_settled(w, clock));
    CHECK(w.current().penalty == doctest::Approx(0.3).epsilon(1e-6));
    CHECK_EQ(w.generation(), 2u);
    CHECK(w.last_error().empty());

    write_file(path, R"({"labels": ["bird", "not_bird"], "penalty": 3})", 2);  // out of range
    CHECK(!poll_settled(w, clock));
    CHECK(w.current().penalty == doctest::Approx(0.3).epsilon(1e-6));
    CHECK(w.last_error().find("'penalty' = 3 is out of range") != std::string::npos);
    CHECK((!log.empty() && log.back().find("rejected") != std::string::npos));
    CHECK(!poll_settled(w, clock));  // rejected once, not again until the file changes

    write_file(path, R"({"labels": ["a", "b", "c"]})", 3);  // label count differs from the model
    CHECK(!poll_settled(w, clock));
    CHECK(w.last_error().find("has 3 labels but the model has 2 outputs") != std::string::npos);

    write_file(path, "{\"labels\": [\"bird\", \"not_bird\"", 4);  // truncated JSON
    CHECK(!poll_settled(w, clock));
    CHECK(w.last_error().find("invalid JSON") != std::string::npos);
    CHECK_EQ(w.current().labels[0], std::string("bird"));

    write_file(path, R"({"labels": ["bird", "not_bird"], "k": 3})", 5);
    CHECK(poll_settled(w, clock));
    CHECK_EQ(w.current().k, 3);
    CHECK(w.current().penalty == doctest::Approx(0.1).epsilon(1e-6));  // a fresh config, not merged with the old one

    unlink(path.c_str());
    CHECK(!poll_settled(w, clock));
    CHECK(w.last_error().find("cannot open") != std::string::npos);
    CHECK_EQ(w.current().k, 3);
    rmdir(dir.c_str());
}

TEST_CASE("with the model's manifest: a config without labels reloads; one that contradicts it is rejected") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    const std::string manifest = dir + "/model.json";
    write_file(manifest, R"({"labels": ["bird", "not_bird"], "input": {"colour_order": "RGB"}})", 0);
    write_file(path, R"({"thresholds": {"bird": 0.6}})", 0);
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 2, [](const std::string&) {}, clock.fn(), camrt::ConfigWatcher::kSettleNs, manifest);
    CHECK_EQ(w.current().labels, std::vector<std::string>{"bird", "not_bird"});

    write_file(path, R"({"labels": ["not_bird", "bird"], "penalty": 0.3})", 1);
    CHECK(!poll_settled(w, clock));
    CHECK(w.last_error().find("'labels' [not_bird, bird] contradict the model manifest's [bird, not_bird]") !=
          std::string::npos);
    CHECK(w.current().thresholds[0] == doctest::Approx(0.6).epsilon(1e-6));  // the last good one stays

    write_file(manifest, R"({"labels": "bird"})", 2);  // a broken manifest: an error naming it, config kept
    write_file(path, R"({"penalty": 0.3})", 2);
    CHECK(!poll_settled(w, clock));
    CHECK(w.last_error().find(manifest + ": model manifest: 'labels' must be a") != std::string::npos);
    CHECK_EQ(w.current().labels.size(), 2u);

    write_file(manifest, R"({"labels": ["bird", "not_bird"]})", 3);
    write_file(path, R"({"penalty": 0.2})", 3);
    CHECK(poll_settled(w, clock));
    CHECK(w.current().penalty == doctest::Approx(0.2).epsilon(1e-6));
    unlink(path.c_str());
    unlink(manifest.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("a replaced file (rename over it) is noticed through the inode") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    const std::string tmp = dir + "/config.json.tmp";
    write_file(path, R"({"labels": ["a", "b"], "k": 1})", 0);
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 0, [](const std::string&) {}, clock.fn());
    std::ofstream(tmp) << R"({"labels": ["a", "b"], "k": 2})";  // same size
    struct stat st;
    stat(path.c_str(), &st);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, tmp.c_str(), times, 0);  // same mtime too: only the inode differs
    rename(tmp.c_str(), path.c_str());
    CHECK(poll_settled(w, clock));
    CHECK_EQ(w.current().k, 2);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("SIGHUP and request_reload force a reload without a file change") {
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

TEST_CASE("broken and hostile files on reload are rejected with a reason, the last good config stays") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["bird", "not_bird"], "k": 1})", 0);
    std::vector<std::string> log;
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 2, [&](const std::string& l) { log.push_back(l); }, clock.fn());
    int bump = 1;
    auto rejected = [&](const std::string& why) {
        const bool accepted = poll_settled(w, clock);
        INFO("expected a rejection mentioning: " << why << "; last_error: " << w.last_error());
        CHECK(!accepted);
        CHECK(w.last_error().find(why) != std::string::npos);
        CHECK(w.last_error().size() < 400);  // never the file's content quoted at length
        CHECK_EQ(w.current().k, 1);          // the last good config is still in force
        CHECK_EQ(w.generation(), 1u);
    };
    write_file(path, "", bump++);
    rejected("invalid JSON");
    write_file(path, std::string("\x00\x01\x02garbage\xff\xfe", 12), bump++);
    rejected("invalid JSON");
    write_file(path,
               "{\"labels\": [\"b\xe9"
               "cassine\", \"x\"]}",
               bump++);  // Latin-1, not UTF-8
    rejected("UTF-8");
    write_file(path, std::string(100000, '[') + std::string(100000, ']'), bump++);
    rejected("the config file is 200000 bytes; a config is at most 65536");
    write_file(path, "{\"labels\": " + std::string(20, '[') + "\"a\"" + std::string(20, ']') + "}", bump++);
    rejected("nesting deeper than 16 levels");
    write_file(path, "{\"labels\": [\"a\", \"b\"], \"model\": \"" + std::string(70000, 'm') + "\"}", bump++);
    rejected("a config is at most 65536");
    write_file(path, "{\"labels\": [\"a\", \"b\"], \"" + std::string(5000, 'k') + "\": 1}", bump++);
    rejected("unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
    // 1 GiB (sparse: no disk used): refused from its size, before a byte is read.
    {
        const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
        REQUIRE(fd >= 0);
        CHECK(::ftruncate(fd, 1LL << 30) == 0);
        ::close(fd);
    }
    rejected("the config file is 1073741824 bytes");
    unlink(path.c_str());
    CHECK(mkdir(path.c_str(), 0700) == 0);
    rejected("is a folder");
    rmdir(path.c_str());
    CHECK(mkfifo(path.c_str(), 0600) == 0);  // opening it must not wait for a writer
    rejected("not a regular file");
    unlink(path.c_str());
    write_file(path, R"({"labels": ["bird", "not_bird"], "k": 2})", bump++);
    CHECK(poll_settled(w, clock));
    CHECK_EQ(w.current().k, 2);
    CHECK(!log.empty());
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("a file caught between its truncation and its write is read only once it has settled") {
    // An editor, `cat > config.json` or Python's write_bytes truncate the file, then write it. A watcher that
    // reads at the first changed stat would see an empty file and reject a good config.
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["a", "b"], "k": 1})", 0);
    std::vector<std::string> log;
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 0, [&](const std::string& l) { log.push_back(l); }, clock.fn());
    const std::uint64_t settle = camrt::ConfigWatcher::kSettleNs;

    write_file(path, "", 1);  // truncated: the state a reader may catch in the middle of a rewrite
    CHECK(!w.poll());
    clock.ns += settle / 2;
    CHECK(!w.poll());                                          // still settling: not read yet
    write_file(path, R"({"labels": ["a", "b"], "k": 2})", 2);  // the writer finishes within the settle time
    CHECK(!w.poll());                                          // a new signature: the wait starts again
    clock.ns += settle - 1;
    CHECK(!w.poll());
    CHECK(log.empty());  // the empty file was never read, so never rejected
    CHECK(w.last_error().empty());
    CHECK_EQ(w.current().k, 1);
    clock.ns += 1;
    CHECK(w.poll());  // stable for the whole settle time: read
    CHECK_EQ(w.current().k, 2);
    REQUIRE_EQ(log.size(), 1u);
    CHECK(log[0].find("reloaded") != std::string::npos);

    // A broken file that stays broken is still rejected, once it has settled.
    write_file(path, "{\"labels\": [", 3);
    CHECK(!w.poll());
    CHECK(log.size() == 1u);
    clock.ns += settle;
    CHECK(!w.poll());
    CHECK(w.last_error().find("invalid JSON") != std::string::npos);
    CHECK_EQ(w.current().k, 2);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("SIGHUP and request_reload act at once, without waiting for a change to settle") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["a", "b"], "k": 1})", 0);
    ManualClock clock;
    camrt::ConfigWatcher w(
        path, 0, [](const std::string&) {}, clock.fn());
    write_file(path, R"({"labels": ["a", "b"], "k": 3})", 1);
    w.request_reload();
    CHECK(w.poll());  // the clock has not moved: only the request makes it read
    CHECK_EQ(w.current().k, 3);
    CHECK(!w.poll());
    clock.ns += camrt::ConfigWatcher::kSettleNs;
    CHECK(!w.poll());  // what was read is what is there: nothing left to reload
    CHECK_EQ(w.generation(), 2u);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("a bad first file throws: there is no good config to keep") {
    const std::string dir = temp_dir();
    const std::string path = dir + "/config.json";
    write_file(path, R"({"labels": ["a"], "colour": "RGB"})", 0);
    CHECK_THROWS_WITH_AS(camrt::ConfigWatcher(path, 0, [](const std::string&) {}),
                         doctest::Contains("unknown key 'colour'"), camrt::ConfigError);
    CHECK_THROWS_WITH_AS(camrt::ConfigWatcher(dir + "/nope.json"), doctest::Contains("cannot open"),
                         camrt::ConfigError);
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST_SUITE_END();
