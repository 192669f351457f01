// Umbrella header for the camrt runtime.
#pragma once

#include "camrt/clock.hpp"
#include "camrt/config.hpp"
#include "camrt/config_watcher.hpp"
#include "camrt/engine.hpp"
#include "camrt/frames.hpp"
#include "camrt/json.hpp"
#include "camrt/pipeline.hpp"
#include "camrt/planner.hpp"
#include "camrt/quant.hpp"
#include "camrt/result.hpp"
#include "camrt/types.hpp"
#include "camrt/voter.hpp"
