#!/usr/bin/env bash
# Makes .venv-coca/ with what the MusicCoCa converter needs (ai-edge-litert, tflite,
# sentencepiece, NumPy) from PyPI. Safe to run again. The build and the C++ tests never need it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$(cd "$here/../.." && pwd)/.venv-coca"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$here/requirements.txt"
"$venv/bin/python" -c "import ai_edge_litert, tflite, sentencepiece; print('musiccoca env ready:', '$venv')"
