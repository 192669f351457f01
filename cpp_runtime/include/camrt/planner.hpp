// Crop planner: square crops along the long side of a frame.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "camrt/types.hpp"

namespace camrt {

// Raised when the frame is smaller than the model input; the message names both sizes.
class FrameTooSmall : public std::invalid_argument {
   public:
    using std::invalid_argument::invalid_argument;
};

// Plans n_crops square crops of a frame_w x frame_h frame for a model_w x model_h input.
//
// Rule:
//  - The frame must be at least as large as the model input (frame_w >= model_w and frame_h >= model_h),
//    otherwise FrameTooSmall ("frame 90x80 is smaller than the model input 96x96").
//  - side = the short side rounded down to a multiple of 4; if that falls below the model's larger
//    side (only possible when the model side is not a multiple of 4) the short side is used as is.
//  - Across the short side the crop is centred: offset = (short - side) / 2 rounded down to a multiple of 4.
//  - Along the long side, with span = long - side: crop i of n sits at round(i * span / (n - 1)) rounded
//    down to a multiple of 4 (left/centre/right for landscape, top/middle/bottom for portrait); n = 1
//    gives the centre crop, span / 2 rounded down to a multiple of 4.
//  - A square frame gives one crop, and so does any frame where the n aligned crops would coincide
//    (centre crop); neighbours that round onto the same position are kept once, so fewer than n
//    crops can come back on frames barely longer than wide.
//  - Crops never leave the frame; x, y and the side are multiples of 4 (except the side case above).
// n_crops must be in 1..16 (std::invalid_argument otherwise).
std::vector<Rect> plan_crops(int frame_w, int frame_h, int n_crops, int model_w, int model_h);

}  // namespace camrt
