#!/usr/bin/env python3
"""Do a codec's codes hold the notes? A linear probe from one frame's codes (each level's code
one-hot) to the pitch classes sounding in that frame (the dataset's note labels), trained on
90 % of the clips and scored on the rest against the labels' base rates. An LM can only follow
the notes its codes say something about: run this before spending compute on an LM
(docs/models.md, "Why notes and prompts barely steer it"). Seconds on a CPU.

  .venv-train/bin/python tools/train/pitch_probe.py --data /work/data/v2 --codes codec-v1 \
      [--levels 12] [--steps 3000] [--threads 2]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset  # noqa: E402

CODEBOOK = 1024
PITCH_CLASSES = 12


def pitch_classes(notes):
  """uint8 [..., 128] note labels -> float32 [..., 12]: 1 where a pitch of that class sounds."""
  classes = np.zeros(notes.shape[:-1] + (PITCH_CLASSES,), np.float32)
  for pitch in range(notes.shape[-1]):
    np.maximum(classes[..., pitch % PITCH_CLASSES], notes[..., pitch] > 0, out=classes[..., pitch % PITCH_CLASSES])
  return classes


def probe(codes, classes, steps=3000, batch=4096, seed=0):
  """codes int [clips, frames, levels], classes [clips, frames, 12] -> held-out scores of a
  linear probe trained on the first 90 % of the clips."""
  generator = torch.Generator().manual_seed(seed)
  levels = codes.shape[-1]
  split = max(1, int(len(codes) * 0.9))
  flat = lambda a: torch.from_numpy(np.ascontiguousarray(a).reshape(-1, a.shape[-1]))
  x_train, y_train = flat(codes[:split].astype(np.int64)), flat(classes[:split])
  x_test, y_test = flat(codes[split:].astype(np.int64)), flat(classes[split:])
  offsets = torch.arange(levels) * CODEBOOK
  table = torch.nn.EmbeddingBag(levels * CODEBOOK, PITCH_CLASSES, mode='sum')
  torch.nn.init.zeros_(table.weight)  # a code never seen in training says nothing
  bias = torch.nn.Parameter(torch.zeros(PITCH_CLASSES))
  optimizer = torch.optim.Adam([*table.parameters(), bias], lr=3e-3)
  for _ in range(steps):
    rows = torch.randint(0, len(x_train), (batch,), generator=generator)
    loss = F.binary_cross_entropy_with_logits(table(x_train[rows] + offsets) + bias, y_train[rows])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
  with torch.no_grad():
    logits = table(x_test + offsets) + bias
    probed = F.binary_cross_entropy_with_logits(logits, y_test).item()
    rates = y_train.mean(0).clamp(1e-4, 1 - 1e-4)
    base = F.binary_cross_entropy(rates.expand_as(y_test), y_test).item()
    predicted = (logits > 0).float()
    hits = float((predicted * y_test).sum())
  return {'bce': probed, 'base_rate_bce': base, 'information': 1 - probed / base,
          'precision': hits / max(float(predicted.sum()), 1.0), 'recall': hits / max(float(y_test.sum()), 1.0)}


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--data', type=Path, required=True, help='dataset directory (tools/train/data/build.py)')
  ap.add_argument('--codes', required=True, help='codes name of tools/train/tokenize_dataset.py')
  ap.add_argument('--levels', type=int, default=12, help='first RVQ levels probed')
  ap.add_argument('--steps', type=int, default=3000)
  ap.add_argument('--threads', type=int, default=2)
  args = ap.parse_args(argv)
  torch.set_num_threads(args.threads)
  try:
    shards = dataset.Shards(args.data)
    codes = np.asarray(shards.codes(args.codes))
  except dataset.DatasetError as e:
    print(f'pitch_probe: error: {e}', file=sys.stderr)
    return 2
  if not 1 <= args.levels <= codes.shape[-1]:
    print(f'pitch_probe: error: --levels {args.levels}: the codes have {codes.shape[-1]} levels', file=sys.stderr)
    return 2
  classes = pitch_classes(np.stack([shards[i].notes for i in range(len(shards))]))
  result = probe(codes[..., :args.levels], classes, args.steps)
  print(f'{args.data} codes {args.codes}, levels 1..{args.levels}: held-out BCE {result["bce"]:.4f} against '
        f'{result["base_rate_bce"]:.4f} from the base rates ({result["information"]:+.1%} of it explained); '
        f'precision {result["precision"]:.2f}, recall {result["recall"]:.2f}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
