#include <doctest/doctest.h>

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "camrt/planner.hpp"

TEST_SUITE_BEGIN("planner");

using camrt::plan_crops;
using camrt::Rect;

namespace camrt {
// Found by ADL from check::describe when a CHECK_EQ on rects fails.
inline std::ostream& operator<<(std::ostream& os, const Rect& r) {
    return os << r.x << "," << r.y << " " << r.w << "x" << r.h;
}
}  // namespace camrt

TEST_CASE("landscape odd size, worked by hand") {
    // 641x479: side = 476, span = 165, offsets round(0, 82.5, 165) -> 0, 83, 165 -> 4-aligned 0, 80, 164.
    const auto c = plan_crops(641, 479, 3, 96, 96);
    CHECK_EQ(c.size(), 3u);
    CHECK_EQ(c[0], (Rect{0, 0, 476, 476}));
    CHECK_EQ(c[1], (Rect{80, 0, 476, 476}));
    CHECK_EQ(c[2], (Rect{164, 0, 476, 476}));
}

TEST_CASE("portrait is the transpose: top, middle, bottom") {
    const auto c = plan_crops(479, 641, 3, 96, 96);
    CHECK_EQ(c.size(), 3u);
    CHECK_EQ(c[0], (Rect{0, 0, 476, 476}));
    CHECK_EQ(c[1], (Rect{0, 80, 476, 476}));
    CHECK_EQ(c[2], (Rect{0, 164, 476, 476}));
}

TEST_CASE("cross axis is centred and aligned") {
    // 1000x311: side 308, cross offset (311 - 308) / 2 = 1 -> 0 after alignment; span 692 -> centre 344.
    const auto c = plan_crops(1000, 311, 1, 96, 96);
    CHECK_EQ(c.size(), 1u);
    CHECK_EQ(c[0].w, 308);
    CHECK_EQ(c[0].y, 0);
    CHECK_EQ(c[0].x, 344);  // span 692 / 2 = 346 -> 344
}

TEST_CASE("n=1 gives the centre crop; square frames give one crop") {
    CHECK_EQ(plan_crops(640, 480, 1, 96, 96)[0], (Rect{80, 0, 480, 480}));
    const auto sq = plan_crops(480, 480, 3, 96, 96);
    CHECK_EQ(sq.size(), 1u);
    CHECK_EQ(sq[0], (Rect{0, 0, 480, 480}));
    const auto odd_sq = plan_crops(227, 227, 3, 224, 224);
    CHECK_EQ(odd_sq.size(), 1u);
    CHECK_EQ(odd_sq[0], (Rect{0, 0, 224, 224}));
}

TEST_CASE("near-square frames collapse coinciding crops") {
    const auto c = plan_crops(482, 480, 3, 96, 96);  // span 2: every aligned offset is 0
    CHECK_EQ(c.size(), 1u);
    CHECK_EQ(c[0], (Rect{0, 0, 480, 480}));
    const auto d = plan_crops(486, 480, 3, 96, 96);  // span 6: offsets 0, 3->0, 6->4: two distinct
    CHECK_EQ(d.size(), 2u);
    CHECK_EQ(d[0].x, 0);
    CHECK_EQ(d[1].x, 4);
}

TEST_CASE("invariants over many odd sizes") {
    int checked = 0;
    for (int w = 96; w <= 700; w += 37) {
        for (int h = 96; h <= 700; h += 41) {
            for (int n = 1; n <= 5; ++n) {
                const auto c = plan_crops(w, h, n, 96, 96);
                const int short_side = std::min(w, h), long_side = std::max(w, h);
                CHECK(!c.empty());
                CHECK(static_cast<int>(c.size()) <= n);
                for (std::size_t i = 0; i < c.size(); ++i) {
                    const Rect& r = c[i];
                    CHECK_EQ(r.w, r.h);
                    CHECK_EQ(r.w % 4, 0);
                    CHECK_EQ(r.x % 4, 0);
                    CHECK_EQ(r.y % 4, 0);
                    CHECK((r.w <= short_side && r.w > short_side - 4));
                    CHECK(r.w >= 96);
                    CHECK((r.x >= 0 && r.y >= 0 && r.x + r.w <= w && r.y + r.h <= h));
                    if (i > 0) {  // strictly moving along the long side
                        CHECK((w >= h ? c[i].x > c[i - 1].x : c[i].y > c[i - 1].y));
                    }
                    ++checked;
                }
                if (n > 1 && c.size() > 1) {
                    const Rect& first = c.front();
                    const Rect& last = c.back();
                    CHECK_EQ(w >= h ? first.x : first.y, 0);
                    const int end = w >= h ? last.x + last.w : last.y + last.h;
                    CHECK(long_side - end < 4);  // reaches the far edge up to alignment
                }
            }
        }
    }
    CHECK(checked > 1000);
}

TEST_CASE("a frame smaller than the model is refused naming both sizes") {
    CHECK_THROWS_WITH_AS(plan_crops(95, 200, 3, 96, 96), doctest::Contains("frame 95x200"), camrt::FrameTooSmall);
    CHECK_THROWS_WITH_AS(plan_crops(300, 95, 3, 96, 96), doctest::Contains("model input 96x96"), camrt::FrameTooSmall);
    CHECK_THROWS_WITH_AS(plan_crops(200, 200, 3, 224, 224), doctest::Contains("224x224"), camrt::FrameTooSmall);
}

TEST_CASE("model side not a multiple of 4 keeps the whole short side") {
    const auto c = plan_crops(300, 98, 3, 97, 97);
    CHECK_EQ(c.front().w, 98);
    CHECK(c.back().x + c.back().w <= 300);
}

TEST_CASE("bad n_crops") {
    CHECK_THROWS_WITH_AS(plan_crops(640, 480, 0, 96, 96), doctest::Contains("n_crops = 0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(plan_crops(640, 480, 17, 96, 96), doctest::Contains("[1, 16]"), std::invalid_argument);
}

TEST_SUITE_END();
