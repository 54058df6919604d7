#!/usr/bin/env bash
# Creates (or updates) the Python environment that runs the OFFICIAL Magenta
# RealTime 2 JAX code (PyPI package `magenta-rt`, CPU JAX) for
# tools/make_fixtures.py.  Idempotent: re-running only installs what is
# missing.  The venv lives at .venv-ref/ in the repository root (ignored by git:
# .gitignore has `.venv*/`).
#
#   tools/reference_env.sh            # create/update .venv-ref
#   .venv-ref/bin/python tools/make_fixtures.py all
#
# Environment: PYTHON (default python3.11, falling back to python3; needs >= 3.11),
# VENV (default <repo>/.venv-ref).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${VENV:-$root/.venv-ref}"
req="$here/requirements-reference.txt"

py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
"$py" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"magenta-rt needs Python >= 3.11, found {sys.version.split()[0]}")
PY

if [[ ! -x "$venv/bin/python" ]]; then
  echo "reference_env: creating $venv"
  "$py" -m venv "$venv"
fi

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && "$venv/bin/python" -c 'import magenta_rt, jax, flax, sequence_layers.jax' >/dev/null 2>&1; then
  echo "reference_env: $venv is up to date"
  exit 0
fi

echo "reference_env: installing pinned requirements into $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# The lock file pins magenta-rt==2.0.3 and its whole dependency closure
# (jax/jaxlib CPU, flax, optax, and the import-time-only deps such as
# google-cloud-storage, librosa, ai-edge-litert that magenta_rt/__init__ pulls in).
"$venv/bin/python" -m pip install --quiet -r "$req"

# Smoke test: the official JAX model and its vendored sequence_layers import.
"$venv/bin/python" - <<'PY'
import magenta_rt  # activates the vendored sequence_layers
from magenta_rt.jax import model, depthformer, transformer, spectrostream, system  # noqa: F401
import jax, flax
print(f"reference_env: OK  magenta_rt from {magenta_rt.__file__}  jax {jax.__version__}  flax {flax.__version__}")
PY
echo "$want" > "$stamp"
