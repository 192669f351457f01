#include "camrt/planner.hpp"

#include <algorithm>
#include <string>

namespace camrt {

namespace {
int floor4(int v) { return v & ~3; }
}  // namespace

std::vector<Rect> plan_crops(int frame_w, int frame_h, int n_crops, int model_w, int model_h) {
    if (n_crops < 1 || n_crops > 16) {
        throw std::invalid_argument("n_crops = " + std::to_string(n_crops) + " is out of range [1, 16]");
    }
    if (model_w <= 0 || model_h <= 0) {
        throw std::invalid_argument("model input " + std::to_string(model_w) + "x" + std::to_string(model_h) +
                                    " must be positive");
    }
    if (frame_w < model_w || frame_h < model_h) {
        throw FrameTooSmall("frame " + std::to_string(frame_w) + "x" + std::to_string(frame_h) +
                            " is smaller than the model input " + std::to_string(model_w) + "x" +
                            std::to_string(model_h));
    }
    const bool landscape = frame_w >= frame_h;
    const int long_side = landscape ? frame_w : frame_h;
    const int short_side = landscape ? frame_h : frame_w;
    int side = floor4(short_side);
    if (side < std::max(model_w, model_h)) side = short_side;  // model side not 4-aligned
    const int cross = floor4((short_side - side) / 2);
    const int span = long_side - side;

    std::vector<int> offsets;
    if (n_crops == 1) {
        offsets.push_back(floor4(span / 2));
    } else {
        for (int i = 0; i < n_crops; ++i) {
            // round(i * span / (n - 1)) in integers, then 4-aligned (never past span).
            const long long num = 2LL * i * span + (n_crops - 1);
            const int pos = static_cast<int>(num / (2LL * (n_crops - 1)));
            offsets.push_back(floor4(pos));
        }
        // Square or near-square frames: every aligned crop coincides, so one crop says it all.
        if (offsets.front() == offsets.back()) offsets.assign(1, floor4(span / 2));
        // Short spans can round two neighbours onto the same position: keep each position once.
        offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    }

    std::vector<Rect> crops;
    crops.reserve(offsets.size());
    for (int off : offsets) {
        if (landscape) {
            crops.push_back(Rect{off, cross, side, side});
        } else {
            crops.push_back(Rect{cross, off, side, side});
        }
    }
    return crops;
}

}  // namespace camrt
