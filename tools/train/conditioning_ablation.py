#!/usr/bin/env python3
"""Does a trained LM use its conditioning? Held-out cross-entropy with the notes, the style,
the drum flag or all three masked (-1, what continuo sends when nothing is set) against
the conditioned loss. A model that follows its inputs loses clearly more when they are
masked; equal losses mean it ignores them (docs/models.md, the bundled model).

  .venv-train/bin/python tools/train/conditioning_ablation.py --run runs/lm [--data DATA] \
      [--codes NAME] [--validation-clips N] [--threads 2] [--splice]

--data, --codes, the style tokens and the architecture default to the run's lm.json (its
last dataset). --splice measures what live changes need: each held-out window cut at
mid-window over to the next held-out clip (lm_data.spliced), the loss over the frames after
the cut, where the history says the old clip and only the conditioning the new one.
"""

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lm_data  # noqa: E402
import train_lm  # noqa: E402
from mrt2_torch.depthformer import Depthformer  # noqa: E402

MASKS = {'notes': ['note_state'], 'style': ['style_tokens'], 'drums': ['drum'],
         'all three': ['note_state', 'style_tokens', 'drum']}


def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--run', type=Path, required=True, help='train_lm.py run directory')
  ap.add_argument('--data', type=Path, help='dataset (default: the run\'s)')
  ap.add_argument('--codes', help='codes name (default: the run\'s)')
  ap.add_argument('--pack', type=Path, help='train_lm.py --pack file (default: the run\'s, if it used one)')
  ap.add_argument('--validation-clips', type=int, help='held-out clips (default: the run\'s)')
  ap.add_argument('--threads', type=int, default=2)
  ap.add_argument('--splice', action='store_true', help='spliced windows, loss after the cut')
  return ap.parse_args(argv)


def run_settings(args, lm):
  """train_lm's own argument parser fed the run's settings, so the split and config match."""
  training = lm['training']
  pack = args.pack or (None if args.data else training.get('pack'))
  argv = ['--out', str(args.run), '--window', str(training['window']),
          '--validation-clips', str(args.validation_clips or training['validation_clips'])]
  if pack:
    argv += ['--pack', str(pack)]
  else:
    argv += ['--data', str(args.data or training['data']), '--codes', args.codes or training['codes']]
    if training.get('style_tokens'):
      argv += ['--style-tokens', training['style_tokens']]
  for item in training['set']:
    argv += ['--set', item]
  return train_lm.parse_args(argv)


def held_out_loss(model, clips, settings, masked, splice):
  first = settings.window // 2 if splice else 0  # the frames scored: after the cut
  total, windows = 0.0, 0
  with torch.no_grad():
    for batch in lm_data.validation_batches(clips, 8, settings.window, 'cpu', splice):
      for key in masked:
        batch[key] = torch.full_like(batch[key], -1)
      nll = model.loss(batch, reduction='none', full_vocab=False).float()[:, first:]
      total += float(nll.mean()) * len(batch['codes'])
      windows += len(batch['codes'])
  return total / windows


def main(argv=None):
  args = parse_args(argv)
  torch.set_num_threads(args.threads)
  lm = json.loads((args.run / 'lm.json').read_text())
  settings = run_settings(args, lm)
  config = train_lm.config_from(settings)
  _, validation = train_lm.load_data(settings, config)
  model = Depthformer(config)
  model.load_state_dict(torch.load(args.run / 'state.pt', map_location='cpu', weights_only=False)['model'])
  model.eval()
  base = held_out_loss(model, validation, settings, [], args.splice)
  print(f'{args.run} step {lm["step"]}, {len(validation)} held-out clips of {settings.data}'
        f'{", spliced windows, after the cut" if args.splice else ""}:')
  print(f'  conditioned: {base:.4f} nats per token')
  for name, keys in MASKS.items():
    loss = held_out_loss(model, validation, settings, keys, args.splice)
    print(f'  {name} masked: {loss:.4f} ({loss - base:+.4f})')
  return 0


if __name__ == '__main__':
  sys.exit(main())
