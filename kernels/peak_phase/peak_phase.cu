#include <stdexcept>
#include <string>

#include "kernels/cuda/device.cuh"
#include "kernels/peak_phase/peak_phase_cuda.hpp"

namespace continuo::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr double kPi = 3.141592653589793238462643383279;     // the CPU's std::numbers::pi
constexpr double kTwoPi = 6.283185307179586476925286766559;  // and 2.0 * std::numbers::pi

struct Shared {
  double* locked;       // [bins] each bin's new ψ, written before any ψ is replaced
  float* magnitude;     // [bins]
  float* reduce;        // [kThreads / 32]
  unsigned char* peak;  // [bins]
};

__device__ Shared carve(void* base, int bins) {
  Shared s;
  s.locked = static_cast<double*>(base);
  s.magnitude = reinterpret_cast<float*>(s.locked + bins);
  s.reduce = s.magnitude + bins;
  s.peak = reinterpret_cast<unsigned char*>(s.reduce + kThreads / device::kWarp);
  return s;
}

std::size_t shared_bytes(int bins) {
  return static_cast<std::size_t>(bins) * (sizeof(double) + sizeof(float) + 1) +
         kThreads / device::kWarp * sizeof(float);
}

__device__ double peak_frequency(const float* m, int p) {
  const double left = log(static_cast<double>(m[p - 1]));
  const double centre = log(static_cast<double>(m[p]));
  const double right = log(static_cast<double>(m[p + 1]));
  const double vertex = 0.5 * (left - right) / (left - 2.0 * centre + right);
  return p + fmin(fmax(vertex, -0.5), 0.5);
}

// The peak whose region holds bin k (peak_phase.hpp): the nearest, the left one on a tie; k
// itself when the frame has none.
__device__ int region_peak(const unsigned char* peak, int bins, int k) {
  int left = k;
  while (left >= 0 && !peak[left]) --left;
  int right = k;
  while (right < bins && !peak[right]) ++right;
  if (left < 0) return right < bins ? right : k;
  if (right >= bins) return left;
  return k - left <= right - k ? left : right;
}

// One frame of one channel; psi is the channel's.
__device__ void lock_frame(const Shared& s, int bins, double* psi, float2* z) {
  float loudest = 0.0f;
  for (int k = threadIdx.x; k < bins; k += kThreads) {
    const float2 v = z[k];
    s.magnitude[k] = __fsqrt_rn(__fadd_rn(__fadd_rn(__fmul_rn(v.x, v.x), __fmul_rn(v.y, v.y)), 1e-20f));
    loudest = fmaxf(loudest, s.magnitude[k]);
  }
  const float threshold = kPeakFloor * device::block_max<kThreads>(loudest, s.reduce);  // also a barrier
  const float* m = s.magnitude;
  for (int k = threadIdx.x; k < bins; k += kThreads) {
    s.peak[k] = k >= 1 && k <= bins - 2 && m[k] >= m[k - 1] && m[k] > m[k + 1] && m[k] > threshold;
  }
  __syncthreads();
  for (int k = threadIdx.x; k < bins; k += kThreads) {
    const int p = region_peak(s.peak, bins, k);
    const double kappa = s.peak[p] ? peak_frequency(m, p) : static_cast<double>(p);
    const double locked = psi[p] + kPi * kappa;
    s.locked[k] = locked - kTwoPi * floor(locked / kTwoPi);
  }
  __syncthreads();  // every old ψ read before any is replaced
  for (int k = threadIdx.x; k < bins; k += kThreads) {
    psi[k] = s.locked[k];
    double sine, cosine;
    sincos(s.locked[k] - kPi * k, &sine, &cosine);
    z[k] = make_float2(static_cast<float>(m[k] * cosine), static_cast<float>(m[k] * sine));
  }
  __syncthreads();  // the next frame reuses the shared arrays
}

__global__ void __launch_bounds__(kThreads)
    peak_phase_kernel(PeakPhaseShape s, const std::int32_t* __restrict__ first_frame, double* __restrict__ psi,
                      float2* __restrict__ x) {
  extern __shared__ double shared_base[];
  const int bins = s.fft_size / 2;
  const Shared shared = carve(shared_base, bins);
  const std::size_t c = blockIdx.x;
  for (int t = max(*first_frame, 0); t < s.frames; ++t) {
    lock_frame(shared, bins, psi + c * bins, x + (c * s.frames + t) * bins);
  }
}

}  // namespace

void peak_phase(cudaStream_t stream, const PeakPhaseShape& s, const std::int32_t* first_frame, double* psi,
                float* x) {
  if (s.fft_size < 2 || s.fft_size % 2 != 0 || s.channels < 0 || s.frames < 0) {
    throw std::invalid_argument("peak_phase: bad shape (fft_size even and positive)");
  }
  if (s.fft_size / 2 > kMaxPeakPhaseBins) {
    throw std::invalid_argument("peak_phase: " + std::to_string(s.fft_size / 2) + " bins > the kernel's " +
                                std::to_string(kMaxPeakPhaseBins));
  }
  if (s.channels == 0 || s.frames == 0) return;
  if (first_frame == nullptr || psi == nullptr || x == nullptr) throw std::invalid_argument("peak_phase: null tensor");
  const int bins = s.fft_size / 2;
  peak_phase_kernel<<<static_cast<unsigned>(s.channels), kThreads, shared_bytes(bins), stream>>>(
      s, first_frame, psi, reinterpret_cast<float2*>(x));
  CONTINUO_CUDA_CHECK_LAUNCH();
}

}  // namespace continuo::kernels::cuda
