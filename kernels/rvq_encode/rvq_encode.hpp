#pragma once

#include "kernels/rvq_decode/rvq_decode.hpp"
#include "kernels/tensor.hpp"

namespace continuo::kernels {

// Residual vector quantiser, embedding → codes (magenta_rt/jax/spectrostream.py:
// ResidualVectorQuantizer.embeddings_to_codes → _quantize → encode →
// _get_encodings_and_neighbors). For each level l in order: code_l = the row c of
// table[l] with the least score |c|² − 2 x·c (the squared distance to the residual x less
// the constant |x|², as the official _compute_pairwise_distances; ties → the lowest
// index, as jnp.argmin); then the residual loses that row. The official subtracts
// x + (q − x) (its stop-gradient form, not simplified at inference), so this does too:
// the residual it leaves can differ from x − q in the last bit.
//
// norms: [levels, codebook] = |row|², from rvq_codebook_norms once per table.

void rvq_codebook_norms(const RvqShape& shape, WeightView table, float* norms);

// residual [dim]: the embedding in, the last level's residual out. codes [levels].
void rvq_encode(const RvqShape& shape, WeightView table, const float* norms, float* residual, int* codes);

}  // namespace continuo::kernels
