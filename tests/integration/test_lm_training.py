#!/usr/bin/env python3
"""The LM training aids that make the bundled model use its conditioning (docs/models.md,
"Why notes and prompts barely steer it"): spliced windows (tools/train/lm_data.py),
balanced note rows (tools/train/train_lm.py), train_lm's refusal of bad values before any
compute, a run from a data pack fitted to its minutes (--pack, --fit-minutes: the GPU
machine's calls), and the pitch probe (tools/train/pitch_probe.py) that says whether codes hold notes. Needs PyTorch: re-runs itself under $CONTINUO_TRAIN_PYTHON or
.venv-train/bin/python (tools/train/setup_env.sh); exits 77 (skipped) when there is neither."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_env import ensure_torch, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def labelled_clips(lm_data, np):
  """3 clips x 10 frames whose every label says (clip, frame): codes level 0 = 100 * clip + frame."""
  n, f = 3, 10
  codes = np.zeros((n, f, 12), np.int16)
  codes[..., 0] = 100 * np.arange(n)[:, None] + np.arange(f)[None]
  notes = np.zeros((n, f, 128), np.uint8)
  for clip in range(n):
    notes[clip, :, 60 + clip] = 1
  style = np.arange(n)[:, None].repeat(12, 1).astype(np.int64)
  return lm_data.Clips(np.arange(n), codes, notes, np.zeros((n, f), np.uint8), style)


def check_splicing(problems, lm_data, np):
  clips = labelled_clips(lm_data, np)
  batch = lm_data.gather(clips, *lm_data.spliced([0, 1], [2, 0], 6, [2, 1], [4, 6]), 'cpu')
  codes = batch['codes'][..., 0].numpy()
  # Row 0: clip 0 frames 2..5, cut at 4 over to clip 2 at the same frames; row 1: never cut.
  if codes.tolist() != [[2, 3, 4, 5, 206, 207], [100, 101, 102, 103, 104, 105]]:
    problems.append(f'spliced codes: {codes.tolist()}')
  held = batch['note_state'].numpy().argmax(-1)
  if held.tolist() != [[60, 60, 60, 60, 62, 62], [61] * 6]:
    problems.append(f'spliced notes follow another clip: {held.tolist()}')
  if batch['style_tokens'][..., 0].tolist() != [[0, 0, 0, 0, 2, 2], [1] * 6]:
    problems.append(f'spliced style: {batch["style_tokens"][..., 0].tolist()}')
  plain = next(lm_data.validation_batches(clips, 8, 4, 'cpu'))
  spliced = next(lm_data.validation_batches(clips, 8, 4, 'cpu', splice=True))
  if plain['codes'][..., 0].tolist() != [[0, 1, 2, 3], [4, 5, 6, 7], [100, 101, 102, 103],
                                         [104, 105, 106, 107], [200, 201, 202, 203], [204, 205, 206, 207]]:
    problems.append(f'validation windows: {plain["codes"][..., 0].tolist()}')
  if spliced['codes'][..., 0][:, 2:].tolist() != [[102, 103], [106, 107], [202, 203], [206, 207],
                                                  [2, 3], [6, 7]]:
    problems.append(f'spliced validation windows: {spliced["codes"][..., 0].tolist()}')


def check_note_rows(problems, torch):
  import train_lm
  from mrt2_torch.depthformer import Depthformer
  model = Depthformer(train_lm.config_from(train_lm.parse_args(
      ['--data', '.', '--out', '.', '--codes', 'x', '--set', 'temporal_layers=1', '--set', 'depth_layers=1'])))
  before = model.encoder.regular_table.detach().clone()
  train_lm.balance_note_rows(model, 50.0)
  after = model.encoder.regular_table.detach()
  c = model.config
  changed = sorted({int(r) for r in torch.nonzero((after != before).any(-1)).flatten()})
  offsets = c.regular_offsets()
  expected = sorted(offsets[p] + raw + c.conditioning_offset for p in range(128) for raw in (1, 2))
  if changed != expected:
    problems.append(f'balance_note_rows changed rows {changed[:6]}..., expected {expected[:6]}...')
  norms = after[expected].norm(dim=-1)
  if not torch.allclose(norms, torch.full_like(norms, 50.0)):
    problems.append(f'note row norms {float(norms.min()):.3f}..{float(norms.max()):.3f}, expected 50')
  cosine = torch.nn.functional.cosine_similarity(after[expected], before[expected], dim=-1)
  if not torch.allclose(cosine, torch.ones_like(cosine), atol=1e-5):
    problems.append('balance_note_rows turned the rows instead of scaling them')


def check_pitch_probe(problems, np):
  """Codes whose level 0 names the chord explain most of the labels; codes drawn at random
  explain nothing."""
  import pitch_probe
  rng = np.random.default_rng(3)
  chords = [(0, 4, 7), (2, 5, 9), (7, 11, 2), (9, 0, 4)]
  chord = rng.integers(0, len(chords), (40, 50))
  notes = np.zeros((40, 50, 128), np.uint8)
  for index, classes in enumerate(chords):
    for pitch_class in classes:
      notes[..., 60 + pitch_class][chord == index] = 1
  labels = pitch_probe.pitch_classes(notes)
  codes = rng.integers(0, 16, (40, 50, 3))  # few codes, each seen often: overfitting shows no signal
  codes[..., 0] = 17 * chord
  holding = pitch_probe.probe(codes, labels, steps=1000, batch=512)
  random = pitch_probe.probe(rng.integers(0, 16, (40, 50, 3)), labels, steps=1000, batch=512)
  print(f'pitch probe: codes naming the chord explain {holding["information"]:.0%}, random codes '
        f'{random["information"]:.0%}')
  if not (holding['information'] > 0.6 and holding['recall'] > 0.9 and random['information'] < 0.05):
    problems.append(f'pitch probe: codes naming the chord {holding}, random codes {random}')


def check_refusals(problems):
  for flag, value, words in (('--splice', '1.5', 'must be in [0, 1]'),
                             ('--note-row-norm', '-1', 'must be >= 0'),
                             ('--fit-minutes', '0', 'must be > 0'),
                             ('--pack', '/tmp/x.npz', 'give either --data and --codes, or --pack')):
    run = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train' / 'train_lm.py'), '--data', '/nonexistent',
                          '--out', '/tmp/never', '--codes', 'x', flag, value], capture_output=True, text=True)
    if run.returncode != 2 or words not in run.stderr:
      problems.append(f'{flag} {value}: exit {run.returncode}, stderr {run.stderr.strip()[-200:]!r}')


def check_pack(problems, lm_data, np, tmp):
  clips = labelled_clips(lm_data, np)
  origin = {'data': '/somewhere/v9', 'codes': 'gpu', 'style_tokens': 'none'}
  lm_data.save_pack(clips, tmp / 'pack.npz', origin)
  back, back_origin = lm_data.load_pack(tmp / 'pack.npz')
  for name in ('index', 'codes', 'notes', 'drums', 'style'):
    if not np.array_equal(getattr(back, name), getattr(clips, name)):
      problems.append(f'pack: {name} came back changed')
  if back_origin != origin:
    problems.append(f'pack: origin {back_origin}')
  np.savez(tmp / 'other.npz', codes=clips.codes)
  try:
    lm_data.load_pack(tmp / 'other.npz')
    problems.append('pack: an npz without the arrays was read as a pack')
  except lm_data.DataError as e:
    if 'not an LM data pack' not in str(e):
      problems.append(f'pack: {e}')


def check_fitted_run(problems, lm_data, np, tmp):
  """A tiny LM trained from a pack with --fit-minutes: it ends, validated and saved, at the
  step the budget fitted, far below --steps, and its lm.json names the pack's origin."""
  rng = np.random.default_rng(5)
  n, frames = 6, 60
  clips = lm_data.Clips(np.arange(n), rng.integers(0, 1024, (n, frames, 12)).astype(np.int16),
                        rng.integers(0, 3, (n, frames, 128)).astype(np.uint8), np.zeros((n, frames), np.uint8),
                        rng.integers(0, 64, (n, 12)).astype(np.int64))
  lm_data.save_pack(clips, tmp / 'tiny.npz', {'data': '/device/data', 'codes': 'gpu', 'style_tokens': 'none'})
  run = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train' / 'train_lm.py'), '--pack', str(tmp / 'tiny.npz'),
                        '--out', str(tmp / 'run'), '--set', 'temporal_layers=1', '--set', 'depth_layers=1',
                        '--set', 'temporal_self_horizon=8', '--set', 'temporal_cross_horizon=8', '--window', '16',
                        '--batch', '2', '--validation-clips', '1', '--steps', '1000000', '--warmup', '10',
                        '--fit-minutes', '0.1', '--log-every', '1000'], capture_output=True, text=True)
  if run.returncode != 0:
    problems.append(f'train_lm --pack --fit-minutes: exit {run.returncode}: {run.stderr[-600:]}')
    return
  lm = json.loads((tmp / 'run' / 'lm.json').read_text())
  fitted = lm['training']['steps']
  print(f'--fit-minutes 0.1: ended at step {lm["step"]}, fitted {fitted}, '
        f'{lm["metrics"]["wall_seconds"]:.1f} s')
  if not (lm['step'] == fitted < 1000000 and lm['metrics']['validation'][-1]['step'] == fitted):
    problems.append(f'fitted run: step {lm["step"]}, fitted steps {fitted}, last validation '
                    f'{lm["metrics"]["validation"][-1:]}')
  if lm['training']['data'] != '/device/data' or lm['training']['codes'] != 'gpu':
    problems.append(f'fitted run: lm.json names data {lm["training"]["data"]}, codes {lm["training"]["codes"]}')
  if 'the run ends at step' not in run.stderr:
    problems.append(f'fitted run: no line says where it ends: {run.stderr[-300:]}')


def main() -> int:
  ensure_torch(__file__)
  import numpy as np
  import torch
  sys.path.insert(0, str(ROOT / 'tools' / 'train'))
  import lm_data
  problems = []
  check_splicing(problems, lm_data, np)
  check_note_rows(problems, torch)
  check_pitch_probe(problems, np)
  check_refusals(problems)
  with tempfile.TemporaryDirectory() as tmp:
    check_pack(problems, lm_data, np, Path(tmp))
    check_fitted_run(problems, lm_data, np, Path(tmp))
  return report(problems, 'spliced windows, balanced note rows, the refusals, the pack and the fitted run behave')


if __name__ == '__main__':
  sys.exit(main())
