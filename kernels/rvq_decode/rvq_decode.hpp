#pragma once

#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Residual vector quantiser, codes → embedding: out = Σ_{l < levels} table[l, codes[l], :],
// summed in level order (magenta_rt/jax/spectrostream.py:
// ResidualVectorQuantizer.codes_to_embeddings; no projection follows, the decoder's
// input layer takes the sum). table [levels, codebook, dim] as stored (the converter keeps
// the first `levels` of the official 64); codes per level in [0, codebook), not checked.
struct RvqShape {
  int levels = 0;
  int codebook = 0;
  int dim = 0;
};

void rvq_decode(const RvqShape& shape, WeightView table, const int* codes, float* out);

}  // namespace continuo::kernels
