#pragma once

#include "engine/control_state.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model {

// The engine's control snapshot in the model's raw token values.
FrameConditioning conditioning_from(const ControlSnapshot& control);
SamplingParams sampling_from(const ControlSnapshot& control);

// Every channel masked: what the official runner conditions its silence prefill on.
FrameConditioning masked_conditioning();

// A CFG scale as the model's token, as the official system discretizes it: the scale
// clamped to [-1, 7], binned by step, rounded half to even, clamped to [0, max_bin].
int cfg_token(float scale, double step, int max_bin);

}  // namespace continuo::model
