#!/usr/bin/env bash
# Makes .venv-train/ with what training needs (PyTorch, NumPy) from PyPI. Safe to run again.
# The build and the tests never need it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-train"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch numpy
# tools/train/data/build.py --synth tinysoundfont; --no-deps: its audio-output dependency
# (pyaudio) is not needed to render and does not build without PortAudio headers.
"$venv/bin/pip" install -q --no-deps tinysoundfont
"$venv/bin/python" -c "import torch, numpy; print('train env: torch', torch.__version__, 'numpy', numpy.__version__)"
