#!/usr/bin/env bash
# Everything a session with a GPU runs for the CUDA kernels (docs/cuda.md "What a GPU session
# must do"), logs under $OUT (default build/gpu-session):
#   tests/cuda/gpu_session.sh build      nvcc-only build for sm_90 (build_standalone.sh)
#   tests/cuda/gpu_session.sh parity     the parity test, CONTINUO_REQUIRE_CUDA=1
#   tests/cuda/gpu_session.sh model      the CUDA Depthformer against the CPU runtime (tiny
#                                        package), the CUDA SpectroStream decoder against the
#                                        CPU's, the joint frame graph against the two stepped
#                                        apart, then Mrt2Model on backend cuda against cpu
#   tests/cuda/gpu_session.sh bench      bench_cuda_kernels (per-op time, bytes, % of copy bandwidth)
#   tests/cuda/gpu_session.sh sanitize   compute-sanitizer memcheck, racecheck, synccheck of the
#                                        parity test; memcheck of the CUDA Depthformer's test
#   tests/cuda/gpu_session.sh sass       SASS of the heaviest kernels (where cuobjdump exists)
#   tests/cuda/gpu_session.sh backend    continuo render --backend cuda vs --backend cpu of the
#                                        tiny package (tests/cuda/test_render_backend.py); needs
#                                        build/continuo, the CMake build (`make build`, which
#                                        needs JACK, liblo, ... on the image); not part of `all`
#   tests/cuda/gpu_session.sh frame      whole frames (one graph: Depthformer and decoder) with
#                                        bench_model --backend cuda on the tiny package, the
#                                        bundled default and random mrt2_small / mrt2_base-shaped
#                                        bf16 packages (made here: tools/make_random_checkpoint.py
#                                        + tools/convert_mrt2.py, ~5 GB for base, under
#                                        build/bench-packages); mrt2_small on cpu too. Needs
#                                        build/bench/bench_model (`make build`); not part of `all`
#   tests/cuda/gpu_session.sh jax        the official JAX implementation's ms per frame on this GPU
#                                        (bench/jax_reference.py, mrt2_small then mrt2_base), from
#                                        the wheels bench/jax_reference_wheels.sh put in .whl (carry
#                                        .whl); not part of `all`
#   tests/cuda/gpu_session.sh all        the six above `backend` in order (≈ 10+ minutes)
#   tests/cuda/gpu_session.sh kit        instead of build: unpacks build-h200/kit.tar.xz, binaries
#                                        built here by tests/cuda/make_device_kit.sh (carry it), into
#                                        build/cuda-standalone, build/bench and build/, for the stages
#                                        after it in the same call (frame and backend too)
# Several stages run in the order given (`gpu_session.sh kit parity model bench frame`). Each
# stage fits one device call (≤ 600 s); the build is kept in build/cuda-standalone.
# The model test reads the package with toml++: where the device image lacks
# /usr/include/toml++, copy it into build/third_party here and carry that path (docs/cuda.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-build/gpu-session}
bin=build/cuda-standalone
mkdir -p "$out"
status=0
run_stage() {
  case $1 in
    build)
      ARCHS=${ARCHS:-"-gencode=arch=compute_90,code=sm_90"} tests/cuda/build_standalone.sh "$bin" \
        > "$out/build.log" 2>&1 ;;
    kit)
      rm -rf build/kit && mkdir -p build/kit "$bin" build/bench && tar xJf build-h200/kit.tar.xz -C build/kit || return 2
      cp build/kit/cuda-standalone/* "$bin"/ && cp build/kit/bench_model build/bench/ && cp build/kit/continuo build/ ||
        return 2
      export LD_LIBRARY_PATH=$PWD/build/kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      # The tests find their fixtures under the source directory they were built in.
      local source_dir
      source_dir=$(cat build/kit/source_dir)
      [[ -e $source_dir ]] || { mkdir -p "$(dirname "$source_dir")" && ln -s "$PWD" "$source_dir"; } ;;
    parity)
      CONTINUO_REQUIRE_CUDA=1 "$bin/test_cuda_kernels" > "$out/parity.log" 2>&1 ;;
    model)
      local rc=0
      CONTINUO_REQUIRE_CUDA=1 "$bin/test_cuda_depthformer" > "$out/depthformer.log" 2>&1 || rc=$?
      CONTINUO_REQUIRE_CUDA=1 "$bin/test_cuda_spectrostream" > "$out/spectrostream.log" 2>&1 || rc=$?
      CONTINUO_REQUIRE_CUDA=1 "$bin/test_cuda_frame" > "$out/frame-graph.log" 2>&1 || rc=$?
      CONTINUO_REQUIRE_CUDA=1 "$bin/test_cuda_mrt2_model" > "$out/mrt2-model.log" 2>&1 || rc=$?
      return $rc ;;
    bench)
      nvidia-smi > "$out/nvidia-smi.txt" 2>&1
      "$bin/bench_cuda_kernels" 50 > "$out/bench.log" 2>&1 ;;
    sanitize)
      local rc=0
      for tool in memcheck racecheck synccheck; do
        timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 3 "$bin/test_cuda_kernels" \
          > "$out/$tool.log" 2>&1 || rc=$?
      done
      timeout 140 compute-sanitizer --tool memcheck --error-exitcode 3 \
        "$bin/test_cuda_depthformer" > "$out/depthformer-memcheck.log" 2>&1 || rc=$?
      return $rc ;;
    sass)
      command -v cuobjdump > /dev/null || { echo "no cuobjdump" > "$out/sass.log"; return 0; }
      for o in conv2d_conv2d dense_dense attention_attention rvq_encode_rvq_encode; do
        cuobjdump --dump-sass "$bin/obj/kernels_$o.cu.o" > "$out/$o.sass" 2>&1
      done ;;
    backend)
      if [[ ! -x build/continuo ]]; then
        echo "no build/continuo: run 'make build' first (CONTINUO_CUDA=AUTO finds nvcc)" | tee "$out/render-backend.log"
        return 2
      fi
      CONTINUO_REQUIRE_CUDA=1 CONTINUO=build/continuo python3 tests/cuda/test_render_backend.py \
        > "$out/render-backend.log" 2>&1 ;;
    frame)
      local bench=build/bench/bench_model packages=build/bench-packages rc=0
      if [[ ! -x $bench ]]; then
        echo "no $bench: run 'make build' first (CONTINUO_CUDA=AUTO finds nvcc)" | tee "$out/frame.log"
        return 2
      fi
      for shape in small base; do
        [[ -f $packages/mrt2_${shape}_random_bf16/model.toml ]] && continue
        python3 tools/make_random_checkpoint.py tests/fixtures/mrt2/names_mrt2_$shape.txt \
          "$packages/mrt2_${shape}_random.safetensors" --seed 1 >> "$out/frame-packages.log" 2>&1 &&
        python3 tools/convert_mrt2.py "$packages/mrt2_${shape}_random.safetensors" \
          "$packages/mrt2_${shape}_random_bf16" --dtype bf16 --name mrt2_${shape}_random_bf16 \
          --licence "none: random benchmark weights" >> "$out/frame-packages.log" 2>&1 || rc=$?
        rm -f "$packages/mrt2_${shape}_random.safetensors"
      done
      nvidia-smi > "$out/nvidia-smi.txt" 2>&1
      "$bench" --backend cuda --warmup 20 --frames 500 tests/fixtures/mrt2/tiny/package models/default \
        "$packages/mrt2_small_random_bf16" --frames 200 "$packages/mrt2_base_random_bf16" \
        --backend cpu --warmup 3 --frames 30 "$packages/mrt2_small_random_bf16" > "$out/frame.log" 2>&1 || rc=$?
      return $rc ;;
    jax)
      local rc=0
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl > "$out/jax.log" 2>&1 || return 2
      for model in mrt2_small mrt2_base; do
        PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 bench/jax_reference.py --model $model --frames 200 \
          >> "$out/jax.log" 2>&1 || rc=$?
      done
      return $rc ;;
    *) echo "unknown stage $1" >&2; return 2 ;;
  esac
}
stages=("${@:-all}")
[[ ${stages[*]} == all ]] && stages=(build parity model bench sanitize sass)
for s in "${stages[@]}"; do
  start=$(date +%s)
  run_stage "$s"
  rc=$?
  echo "$s: exit $rc in $(( $(date +%s) - start )) s" | tee -a "$out/stages.log"
  (( rc != 0 )) && status=1
done
[[ " ${stages[*]} " == *" parity "* ]] && tail -n 3 "$out/parity.log"
[[ " ${stages[*]} " == *" model "* ]] && tail -n 8 "$out/depthformer.log" "$out/mrt2-model.log"
[[ " ${stages[*]} " == *" backend "* ]] && tail -n 4 "$out/render-backend.log"
[[ " ${stages[*]} " == *" frame "* ]] && grep RESULT "$out/frame.log"
[[ " ${stages[*]} " == *" jax "* ]] && grep RESULT "$out/jax.log"
exit $status
