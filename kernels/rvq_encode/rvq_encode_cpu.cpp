#include "kernels/rvq_encode/rvq_encode.hpp"

#include <cstddef>

#include "kernels/conv2d/conv2d.hpp"
#include "kernels/dense/dense.hpp"

namespace continuo::kernels {
namespace {

template <typename W>
float dot(const W* row, const float* x, int n) {
  float sum = 0.0f;
  for (int d = 0; d < n; ++d) sum += detail::widen(row[d]) * x[d];
  return sum;
}

template <typename W>
void encode(const RvqShape& s, const W* table, const float* norms, float* residual, int* codes) {
  const auto dim = static_cast<std::size_t>(s.dim);
  for (int l = 0; l < s.levels; ++l) {
    const W* level = table + static_cast<std::size_t>(l) * s.codebook * dim;
    const float* level_norms = norms + static_cast<std::size_t>(l) * s.codebook;
    int best = 0;
    float best_score = 0.0f;
    for (int c = 0; c < s.codebook; ++c) {
      const float score = level_norms[c] - 2.0f * dot(level + c * dim, residual, s.dim);
      if (c == 0 || score < best_score) {  // strict: a tie keeps the lower index
        best = c;
        best_score = score;
      }
    }
    codes[l] = best;
    const W* row = level + static_cast<std::size_t>(best) * dim;
    for (std::size_t d = 0; d < dim; ++d) {
      const float step = detail::widen(row[d]) - residual[d];  // q − x
      const float quantized = residual[d] + step;     // x + (q − x)
      residual[d] -= quantized;
    }
  }
}

}  // namespace

void rvq_codebook_norms(const RvqShape& s, WeightView table, float* norms) {
  const auto rows = static_cast<std::size_t>(s.levels) * s.codebook;
  const auto dim = static_cast<std::size_t>(s.dim);
  for (std::size_t r = 0; r < rows; ++r) {
    float sum = 0.0f;
    for (std::size_t d = 0; d < dim; ++d) sum += table.at(r * dim + d) * table.at(r * dim + d);
    norms[r] = sum;
  }
}

void rvq_encode(const RvqShape& s, WeightView table, const float* norms, float* residual, int* codes) {
  detail::with_typed(table, [&](const auto* w) { encode(s, w, norms, residual, codes); });
}

}  // namespace continuo::kernels
