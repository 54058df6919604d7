#!/usr/bin/env python3
"""The committed text tower fixture (tests/fixtures/text_tower/) is what the PyTorch definition
computes today: tools/train/make_text_tower_fixture.py, run into a temporary directory, must
write the same manifest and vocabulary, the same tensors to float rounding (another CPU may
round PyTorch's sums differently) and the same tokens. Needs PyTorch: re-runs itself under
$CONTINUO_TRAIN_PYTHON or .venv-train/bin/python (tools/train/setup_env.sh); exits 77
(skipped) when there is neither."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_env import ensure_torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / 'tests' / 'fixtures' / 'text_tower'


def compare(written: Path) -> list[str]:
  import numpy as np
  sys.path.insert(0, str(ROOT / 'tools' / 'train'))
  from style import tower_files
  problems = []
  files = lambda root: sorted(p.relative_to(root) for p in root.rglob('*') if p.is_file())
  if files(written) != files(FIXTURE):
    return [f'files: written {files(written)}, committed {files(FIXTURE)}']
  for name in files(FIXTURE):
    if name.suffix != '.safetensors':
      if (written / name).read_bytes() != (FIXTURE / name).read_bytes():
        problems.append(f'{name}: differs')
      continue
    new, new_meta = tower_files.read_safetensors(written / name)
    old, old_meta = tower_files.read_safetensors(FIXTURE / name)
    if new_meta != old_meta or sorted(new) != sorted(old):
      problems.append(f'{name}: other texts or tensor names')
      continue
    for tensor in sorted(old):
      exact = tensor.endswith('.tokens')
      if exact and not np.array_equal(new[tensor], old[tensor]):
        problems.append(f'{name}: {tensor}: other tokens')
      if not exact and not np.allclose(new[tensor], old[tensor], rtol=1e-5, atol=1e-6):
        problems.append(f'{name}: {tensor}: max difference {np.abs(new[tensor] - old[tensor]).max():.2e}')
  return problems


def main() -> int:
  ensure_torch(__file__)
  with tempfile.TemporaryDirectory() as out:
    subprocess.run([sys.executable, str(ROOT / 'tools' / 'train' / 'make_text_tower_fixture.py'), '--out', out],
                   check=True)
    problems = compare(Path(out))
  for problem in problems:
    print(problem)
  if problems:
    print('the fixture is stale: regenerate it with tools/train/make_text_tower_fixture.py')
    return 1
  print('the committed fixture is what the PyTorch definition computes')
  return 0


if __name__ == '__main__':
  sys.exit(main())
