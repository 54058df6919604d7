#!/usr/bin/env python3
"""Encode every clip of a dataset with a trained codec: the audio tokens the LM learns.

  .venv-train/bin/python tools/train/tokenize_dataset.py --codec runs/codec1 --data /work/data/v1 [--name codec1]

Writes DATA/codes-<name>.npz (`codes` int16 [clips, frames, 12], `index` int64 [clips], dataset
order) and a `codes.<name>` entry in DATA/manifest.json (read back with
common.dataset.Shards(DATA).codes(name)). The codec is run's codec.safetensors through the
PyTorch encoder, SpectroStream.encode: the official embeddings_to_codes rule continuo's encoder
implements (tests/unit/test_spectrostream_encoder.cpp checks the two agree on an exported codec).

Alignment: codes[t] and the labels' frame t describe the same audio, samples
[1920 t, 1920 (t + 1)). The codec's STFT frames are reverse-causal (frame j = samples
[480 j, 480 j + 960)), so codes[t] also hears the first 480 samples (10 ms) of frame t + 1
(continuo's streaming encoder answers for frame t one call later for that reason); the last
frame of a clip hears zeros there, as the encoder at the end of a stream. The LM is trained to
emit codes[t] given labels[t], and the decoder plays frame t once codes[t + 1] exist (lookahead 1).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))

from codec_run import WEIGHTS_FILE, load_run_codec  # noqa: E402
from common.cli import refuse  # noqa: E402
from common.dataset import DatasetError, Shards  # noqa: E402
from common.progress import Progress  # noqa: E402
from mrt2_torch.spectrostream import SpectroStream  # noqa: E402

PROG = 'tokenize_dataset.py'
ALIGNMENT = ('codes[t] encodes samples [S t, S (t + 1)) of the clip (S = frame samples) with fft - hop '
             'samples of frame t + 1 (zeros after the clip), the same samples as labels frame t')


def parse(argv):
  p = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
  p.add_argument('--codec', type=Path, required=True, help='finished train_codec.py run directory')
  p.add_argument('--data', type=Path, required=True, help='dataset directory (tools/train/data/build.py)')
  p.add_argument('--name', help='codes name (default: the run directory\'s name)')
  p.add_argument('--overwrite', action='store_true', help='replace existing codes of this name')
  p.add_argument('--threads', type=int, default=2)
  p.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
  return p.parse_args(argv)


def write_atomically(path: Path, write) -> None:
  tmp = path.with_name(path.name + '.tmp')
  with open(tmp, 'wb') as f:
    write(f)
    f.flush()
    os.fsync(f.fileno())
  tmp.replace(path)


def main(argv=None) -> int:
  args = parse(argv)
  name = args.name or args.codec.resolve().name
  try:
    config, weights, run = load_run_codec(args.codec)
    data = Shards(args.data)
  except (FileNotFoundError, DatasetError) as e:
    refuse(PROG, str(e))
  out = args.data / f'codes-{name}.npz'
  if (name in data.manifest.get('codes', {}) or out.exists()) and not args.overwrite:
    refuse(PROG, f'{out} exists; pass --overwrite or another --name')
  if (data.sample_rate, data.frame_samples) != (config.sample_rate, config.frame_samples):
    refuse(PROG, f'the dataset is {data.sample_rate} Hz with {data.frame_samples}-sample label frames, the codec '
                 f'{config.sample_rate} Hz with {config.frame_samples}-sample frames')
  if args.device == 'cuda' and not torch.cuda.is_available():
    refuse(PROG, '--device cuda but torch sees no CUDA device')

  torch.set_num_threads(args.threads)
  model = SpectroStream(config).load_official(weights).eval().to(args.device)
  codes = np.empty((len(data), data.frames_per_clip, config.lm_levels), np.int16)
  index = np.empty(len(data), np.int64)
  progress = Progress(len(data), items_per_step=data.samples_per_clip / data.sample_rate, items='audio s', unit='clip')
  with torch.no_grad():
    for i, clip in enumerate(data):
      audio = torch.from_numpy(np.asarray(clip.audio, np.float32).T / 32768.0)[None].to(args.device)
      codes[i] = model.encode(audio)[0].cpu().numpy()
      index[i] = clip.index
      progress.update(i + 1, {}, force=i + 1 == len(data))

  write_atomically(out, lambda f: np.savez(f, codes=codes, index=index))
  manifest = dict(data.manifest)
  manifest.setdefault('codes', {})[name] = {
      'file': out.name, 'codec': str(args.codec.resolve()),
      'codec_sha256': hashlib.sha256((args.codec / WEIGHTS_FILE).read_bytes()).hexdigest(),
      'config': run['config'], 'dtype': 'int16', 'shape': list(codes.shape), 'alignment': ALIGNMENT}
  write_atomically(args.data / 'manifest.json', lambda f: f.write((json.dumps(manifest, indent=2) + '\n').encode()))
  print(f'{PROG}: wrote {out} ({codes.shape[0]} clips x {codes.shape[1]} frames x {codes.shape[2]} levels)',
        file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
