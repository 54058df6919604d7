#!/usr/bin/env bash
# Builds tests/cuda/test_cuda_kernels, tests/cuda/test_cuda_depthformer,
# tests/cuda/test_cuda_spectrostream, tests/cuda/test_cuda_frame, tests/cuda/test_cuda_mrt2_model and
# bench/bench_cuda_kernels with nvcc alone: no CMake, no JACK or other project dependencies,
# for a GPU machine whose image lacks them. Same flags as the CMake build.
#   tests/cuda/build_standalone.sh [output-dir]     (default build/cuda-standalone)
# Environment: NVCC (default nvcc), HOST_CXX (default clang++-19 if present, else g++),
# ARCHS (default: SASS for sm_80/86/89/90 and compute_80 PTX, as the CMake build),
# JOBS (parallel compiles, default nproc), TOMLPP_INCLUDE (a directory holding toml++/toml.h:
# the model package reader needs toml++, used header-only here; default /usr/include, else
# build/third_party, where a session copies /usr/include/toml++ to carry it to the device).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/cuda-standalone}
mkdir -p "$out/obj"
nvcc=${NVCC:-nvcc}
host=${HOST_CXX:-$(command -v clang++-19 || command -v g++)}
archs=${ARCHS:--gencode=arch=compute_80,code=sm_80 -gencode=arch=compute_86,code=sm_86 -gencode=arch=compute_89,code=sm_89 -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_80,code=compute_80}
jobs=${JOBS:-$(nproc)}
common=(-std=c++20 -O2 -I. -ccbin "$host")
cuda_flags=("${common[@]}" $archs -Werror all-warnings -Xcompiler=-Wall,-Wextra,-Wno-unused-function)
cxx_flags=("${common[@]}" -Xcompiler=-Wall,-Wextra)

toml=${TOMLPP_INCLUDE:-/usr/include}
[[ -f $toml/toml++/toml.h ]] || toml=build/third_party
if [[ ! -f $toml/toml++/toml.h ]]; then
  echo "no toml++/toml.h under TOMLPP_INCLUDE, /usr/include or build/third_party" >&2
  exit 2
fi
[[ $toml == /usr/include ]] || cxx_flags+=(-isystem "$toml")  # a second /usr/include breaks <cmath>
cxx_flags+=(-DTOML_HEADER_ONLY=1 "-DCONTINUO_SOURCE_DIR=\"$PWD\"")

library=(kernels/*/*.cu kernels/tensor.cpp kernels/*/*_cpu.cpp)
# The CPU Depthformer and SpectroStream decoder (the CUDA runtimes' twins and references) and
# their package reader.
model_sources=(model/{package,safetensors,architecture,depthformer_config}.cpp
               model/depthformer{,_layers,_encoder}.cpp model/{spectrostream,spectrostream_config,streaming_conv}.cpp
               model/cuda/*.cpp model/cuda/*.cu)
# The rest of the model runtime (Mrt2Model: codec, conditioning, text tower, MusicCoCa) and the
# two engine files it uses, for test_cuda_mrt2_model. MusicCoCa's tokeniser needs
# libsentencepiece (Debian: libsentencepiece-dev); without it that one test is not built.
mrt2_sources=($(ls model/*.cpp | grep -v -x -F "$(printf '%s\n' "${model_sources[@]}")") model/musiccoca/*.cpp
              engine/log.cpp engine/model_registry.cpp)
mrt2_test_sources=(tests/cuda/test_cuda_mrt2_model.cpp)
if [[ ! -f /usr/include/sentencepiece_processor.h ]]; then
  echo "no /usr/include/sentencepiece_processor.h (libsentencepiece-dev): test_cuda_mrt2_model not built" >&2
  mrt2_sources=()
  mrt2_test_sources=()
fi
test_sources=(tests/cuda/test_cuda_kernels.cpp tests/cuda/fresh_*.cpp)
model_test_sources=(tests/cuda/test_cuda_depthformer.cpp)
codec_test_sources=(tests/cuda/test_cuda_spectrostream.cpp)
frame_test_sources=(tests/cuda/test_cuda_frame.cpp)
bench_sources=(bench/bench_cuda_kernels.cpp)
object_of() { echo "$out/obj/$(echo "$1" | tr / _).o"; }
pids=()
for src in "${library[@]}" "${model_sources[@]}" "${test_sources[@]}" "${model_test_sources[@]}" "${codec_test_sources[@]}" \
           "${frame_test_sources[@]}" "${bench_sources[@]}" "${mrt2_sources[@]}" "${mrt2_test_sources[@]}"; do
  obj=$(object_of "$src")
  if [[ $src == *.cu ]]; then
    "$nvcc" "${cuda_flags[@]}" -c "$src" -o "$obj" &
  else
    "$nvcc" "${cxx_flags[@]}" -x c++ -c "$src" -o "$obj" &
  fi
  pids+=($!)
  if (( ${#pids[@]} >= jobs )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
objects() { for src in "$@"; do object_of "$src"; done; }
"$nvcc" -ccbin "$host" $(objects "${library[@]}" "${test_sources[@]}") -o "$out/test_cuda_kernels"
"$nvcc" -ccbin "$host" $(objects "${library[@]}" "${bench_sources[@]}") -o "$out/bench_cuda_kernels"
"$nvcc" -ccbin "$host" $(objects "${library[@]}" "${model_sources[@]}" "${model_test_sources[@]}") \
  -o "$out/test_cuda_depthformer"
"$nvcc" -ccbin "$host" $(objects "${library[@]}" "${model_sources[@]}" "${codec_test_sources[@]}") \
  -o "$out/test_cuda_spectrostream"
"$nvcc" -ccbin "$host" $(objects "${library[@]}" "${model_sources[@]}" "${frame_test_sources[@]}") \
  -o "$out/test_cuda_frame"
if (( ${#mrt2_test_sources[@]} )); then
  "$nvcc" -ccbin "$host" $(objects "${library[@]}" "${model_sources[@]}" "${mrt2_sources[@]}" \
    "${mrt2_test_sources[@]}") -lsentencepiece -o "$out/test_cuda_mrt2_model"
fi
echo "built $out/test_cuda_kernels $out/test_cuda_depthformer $out/test_cuda_spectrostream $out/test_cuda_frame" \
  "$out/test_cuda_mrt2_model" \
  "$out/bench_cuda_kernels"
