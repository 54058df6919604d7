#!/usr/bin/env bash
# Here, before a GPU session: builds the CUDA tests, bench_cuda_kernels, bench_model and continuo
# with the CMake build for sm_90 only (build-h200, ccache), strips them and packs them with the
# shared libraries they need beyond glibc and libstdc++ into build-h200/kit.tar.xz (~6 MB).
# On the device, `tests/cuda/gpu_session.sh kit` unpacks it where the other stages look
# (build/cuda-standalone, build/bench/bench_model, build/continuo), so no device time goes to
# building and the stages that need the project's dependencies (frame, backend) run too.
# The binaries run on the device's image because this machine's glibc (Debian 12: 2.36) is
# older than the image's (Ubuntu 24.04: 2.39); they were built here and ran there on 2026-11-23.
#   tests/cuda/make_device_kit.sh      then run(..., carry=["build-h200/kit.tar.xz"])
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build-h200
kit=$build/kit
targets=(test_cuda_kernels test_cuda_depthformer test_cuda_spectrostream test_cuda_frame test_cuda_mrt2_model
         bench_cuda_kernels bench_model continuo)
[[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$(command -v clang++-19 || command -v c++)" \
  -DCONTINUO_CUDA=ON -DCONTINUO_CUDA_ARCHITECTURES=90-real \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache
CCACHE_BASEDIR=$PWD cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
rm -rf "$kit"
mkdir -p "$kit/cuda-standalone" "$kit/lib"
for t in "${targets[@]}"; do
  built=$(find "$build" -type f -name "$t" -perm -u+x | head -n 1)
  case $t in
    bench_model | continuo) strip -o "$kit/$t" "$built" ;;
    *) strip -o "$kit/cuda-standalone/$t" "$built" ;;
  esac
done
# The libraries the device image lacks: everything the binaries link but glibc's own and the
# C++ runtime, which the image has in newer versions.
find "$kit" -type f -perm -u+x -exec ldd {} + | awk '/=> \// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s)\.so' |
  while read -r lib; do cp -L "$lib" "$kit/lib/"; done
pwd > "$kit/source_dir"  # where the tests look for fixtures (CONTINUO_SOURCE_DIR)
tar cJf "$build/kit.tar.xz" -C "$kit" .
echo "$build/kit.tar.xz: $(du -h "$build/kit.tar.xz" | cut -f1) ($(ls "$kit/lib" | wc -l) libraries)"
