"""Tests that need Python packages Debian does not ship (PyTorch, ai-edge-litert) re-run
themselves under the project's virtual environment for them, or are skipped (exit 77) on a
machine without one, as CI is."""

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = 77


def rerun_with(modules, env_var, venv, setup, script):
  """Returns when every module imports here; else re-runs script under $env_var or
  ROOT/venv/bin/python, or exits SKIP when there is neither."""
  if all(importlib.util.find_spec(module) is not None for module in modules):
    return
  python = Path(os.environ.get(env_var, ROOT / venv / 'bin' / 'python'))
  if not python.exists():
    print(f'no {", ".join(modules)} here and no {python} ({setup}): skipped')
    sys.exit(SKIP)
  os.execv(str(python), [str(python), script])


def ensure_torch(script):
  rerun_with(['torch'], 'CONTINUO_TRAIN_PYTHON', '.venv-train', 'tools/train/setup_env.sh', script)


def ensure_litert(script):
  rerun_with(['ai_edge_litert', 'tflite'], 'CONTINUO_COCA_PYTHON', '.venv-coca', 'tools/musiccoca/setup_env.sh',
             script)


def report(problems, passed):
  """Prints each problem, or `passed` when there is none; the test's exit status."""
  for problem in problems:
    print(problem)
  if not problems:
    print(passed)
  return 1 if problems else 0
