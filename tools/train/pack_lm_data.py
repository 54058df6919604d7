#!/usr/bin/env python3
"""Packs what train_lm.py reads of a dataset (codes, note state, drum flag, style tokens) into
one compressed file for `train_lm.py --pack`.

  .venv-train/bin/python tools/train/pack_lm_data.py --data DIR --codes NAME [--style-tokens F|none] --out FILE

A GPU machine's call carries at most 64 MiB with the working tree, so a dataset's audio cannot
travel to the call that trains the LM; the LM never reads it (tools/train/gpu_train.sh, stage lm).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lm_data  # noqa: E402


def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--data', type=Path, required=True, help='dataset directory (manifest.json)')
  ap.add_argument('--codes', required=True, help='codes name (tools/train/tokenize_dataset.py --name)')
  ap.add_argument('--style-tokens', default=None,
                  help=f'per-clip style tokens (default DATA/{lm_data.STYLE_TOKENS}); "none": style masked')
  ap.add_argument('--out', type=Path, required=True, help='the pack (.npz)')
  return ap.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  try:
    style = lm_data.style_tokens_path(args.data, args.style_tokens)
    clips = lm_data.load(args.data, args.codes, style)
  except lm_data.DataError as e:
    print(f'pack_lm_data: error: {e}', file=sys.stderr)
    return 2
  origin = {'data': str(args.data.resolve()), 'codes': args.codes,
            'style_tokens': str(style.resolve()) if style else 'none'}
  lm_data.save_pack(clips, args.out, origin)
  print(f'{args.out}: {len(clips)} clips x {clips.frames} frames, '
        f'{args.out.stat().st_size / 1e6:.1f} MB', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
