#include "kernels/rvq_decode/rvq_decode.hpp"

#include <algorithm>
#include <cstddef>

namespace continuo::kernels {

// 12 rows of 256 per frame: too small to need a typed inner loop.
void rvq_decode(const RvqShape& s, WeightView table, const int* codes, float* out) {
  std::fill(out, out + s.dim, 0.0f);
  for (int l = 0; l < s.levels; ++l) {
    const std::size_t row = (static_cast<std::size_t>(l) * s.codebook + codes[l]) * s.dim;
    for (int d = 0; d < s.dim; ++d) out[d] += table.at(row + d);
  }
}

}  // namespace continuo::kernels
