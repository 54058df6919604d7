"""Resumable training state: everything a run needs to continue as if never stopped.

  save_training_state(run_dir, step, {'model': model, 'optimizer': opt}, extra={'rng': ...})
  step, extra = load_training_state(run_dir, {'model': model, 'optimizer': opt})

Objects are anything with state_dict()/load_state_dict() (modules, optimizers, schedulers).
The RNG states of Python, NumPy's global generator and torch (CPU and every CUDA device) are
saved and restored too; a numpy Generator of the caller's goes in `extra`
(generator.bit_generator.state). The file is written to a temporary name, flushed to disk and
renamed over `training_state.pt`, so a kill at any moment leaves the previous state or the new
one, never half of one.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

STATE_FILE = 'training_state.pt'


def has_training_state(run_dir) -> bool:
  return (Path(run_dir) / STATE_FILE).is_file()


def _rng_states() -> dict:
  return {'python': random.getstate(), 'numpy': np.random.get_state(), 'torch': torch.get_rng_state(),
          'cuda': torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _restore_rng_states(states: dict) -> None:
  random.setstate(states['python'])
  np.random.set_state(states['numpy'])
  torch.set_rng_state(states['torch'].cpu())  # RNG states are CPU byte tensors whatever map_location did
  if states['cuda'] and torch.cuda.is_available():
    torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda'][:torch.cuda.device_count()]])


def save_training_state(run_dir, step: int, objects: dict, extra: dict | None = None) -> Path:
  run_dir = Path(run_dir)
  run_dir.mkdir(parents=True, exist_ok=True)
  path = run_dir / STATE_FILE
  tmp = path.with_name(path.name + '.tmp')
  payload = {'step': step, 'objects': {name: obj.state_dict() for name, obj in objects.items()},
             'rng': _rng_states(), 'extra': extra or {}}
  with open(tmp, 'wb') as f:
    torch.save(payload, f)
    f.flush()
    os.fsync(f.fileno())
  tmp.replace(path)
  return path


def load_training_state(run_dir, objects: dict, map_location='cpu', optional=()) -> tuple[int, dict]:
  """Restores `objects` and the RNGs from run_dir; returns (step, extra). Names in `optional`
  that the file lacks (a part added to a resumed run) keep their fresh state."""
  path = Path(run_dir) / STATE_FILE
  if not path.is_file():
    raise FileNotFoundError(f'{path}: no training state to resume from')
  payload = torch.load(path, map_location=map_location, weights_only=False)  # our own file
  missing = sorted(set(objects) - set(payload['objects']) - set(optional))
  if missing:
    raise KeyError(f'{path}: no saved state for {missing}')
  for name, obj in objects.items():
    if name in payload['objects']:
      obj.load_state_dict(payload['objects'][name])
  _restore_rng_states(payload['rng'])
  return payload['step'], payload['extra']
