#!/usr/bin/env bash
# Downloads into .whl/ (git-ignored) the wheels bench/jax_reference.py needs on the GPU machine
# beyond its image (which has JAX with CUDA, flax, numpy, scipy, ...): magenta-rt 2.0.3 and the
# packages it imports that the image lacks, for the image's Python 3.12, without their
# dependencies (~28 MB: one device call carries 64 MiB). Run here, where PyPI is reachable;
# then `tests/cuda/gpu_session.sh jax` with `.whl` in the run's carry (docs/cuda.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
  magenta-rt==2.0.3 ai-edge-litert==2.3.0 librosa==0.11.0 recurrentgemma==1.0.1 resampy==0.4.3 \
  soundfile==0.14.0 typeguard==2.13.3 audioread==3.1.0 soxr==1.1.0 pooch==1.9.0 decorator==5.3.1 \
  platformdirs==4.14.5 cffi==2.1.1 pycparser
du -sh .whl
