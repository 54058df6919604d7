#!/usr/bin/env python3
"""continuo's decode speed for a SpectroStream config: random official-layout weights, converted
and timed as the engine runs them.

  .venv-train/bin/python tools/train/codec_speed.py [--preset default] [--set key=value ...]
      [--bench build/bench/bench_model] [--frames 200] [--dtype f32|bf16] [--keep DIR]

1. The codec's official names and shapes come from mrt2_torch.spectrostream (to_official()
   of the config, with the encoder), plus the tiny fixture's Depthformer
   (tests/fixtures/mrt2/tiny/tiny.safetensors) with its vocabulary widened to
   6 + 12 * codebook, so the package is a whole MRT2 model whose LM costs next to nothing.
2. tools/make_random_checkpoint.py writes random weights for that names list;
   tools/convert_mrt2.py converts it (f32, --horizons 6,4, --codec-sample-rate, and
   --codec-output-mode for --set phase_accumulate=True or peak_phase=True) like a real checkpoint;
   bench_model times Mrt2Model::step and reports the codec stage p50/p99.

--set takes SpectroStreamConfig fields as Python literals, e.g.
  --set decoder_base_channels=16 --set 'mults=(2,1,2,1,1,2,1)'
Prints the config, its multiply-adds and parameters, then bench_model's table.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))

from common.cli import parse_set  # noqa: E402
from mrt2_torch.spectrostream import SpectroStream  # noqa: E402
from mrt2_torch.spectrostream_config import PRESETS  # noqa: E402

TINY_LM = ROOT / 'tests' / 'fixtures' / 'mrt2' / 'tiny' / 'tiny.safetensors'
TINY_VOCAB = 198


def safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
  with open(path, 'rb') as f:
    (n,) = struct.unpack('<Q', f.read(8))
    header = json.loads(f.read(n))
  return {k: tuple(v['shape']) for k, v in header.items() if k != '__metadata__'}


def names_list(config) -> list[str]:
  with torch.device('meta'):
    codec = SpectroStream(config)
  vocab = 6 + config.lm_levels * config.codebook
  lines = []
  for name, shape in sorted(safetensors_shapes(TINY_LM).items()):
    if name.startswith('params/depthformer/'):
      shape = tuple(vocab if d == TINY_VOCAB else d for d in shape)
      lines.append(f'{name}\t{"x".join(map(str, shape))}\tfloat32')
  for name, shape in codec.official_shapes('params/soundstream/').items():
    lines.append(f'{name}\t{"x".join(map(str, shape))}\tfloat32')
  return lines


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--preset', default='default', choices=sorted(PRESETS))
  ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE')
  ap.add_argument('--bench', type=Path, default=ROOT / 'build' / 'bench' / 'bench_model')
  ap.add_argument('--frames', type=int, default=200)
  ap.add_argument('--warmup', type=int, default=20)
  ap.add_argument('--keep', type=Path, help='write the package here and keep it')
  ap.add_argument('--seed', type=int, default=1)
  ap.add_argument('--dtype', choices=('f32', 'bf16'), default='f32', help='package weight storage')
  args = ap.parse_args(argv)

  config = PRESETS[args.preset].replace(**parse_set(args.set)).validate()
  macs = config.decoder_macs()
  params = config.parameter_count()
  print(config)
  print(f'decoder {sum(macs.values()) / 1e6:.1f} M multiply-adds per frame: '
        + ', '.join(f'{k} {v / 1e6:.1f}' for k, v in macs.items()))
  print('parameters: ' + ', '.join(f'{k} {v / 1e6:.2f} M' for k, v in params.items()))
  sys.stdout.flush()

  with tempfile.TemporaryDirectory(prefix='codec_speed.') as tmp:
    tmp = Path(tmp)
    names = tmp / 'names.txt'
    names.write_text('# codec_speed.py\n' + '\n'.join(names_list(config)) + '\n')
    ckpt = tmp / 'random.safetensors'
    package = args.keep or tmp / 'package'
    py = sys.executable
    subprocess.run([py, ROOT / 'tools' / 'make_random_checkpoint.py', names, ckpt, '--seed', str(args.seed)],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([py, ROOT / 'tools' / 'convert_mrt2.py', ckpt, package, '--horizons', '6,4',
                    '--dtype', args.dtype,
                    '--codec-sample-rate', str(config.sample_rate), '--name', 'codec_speed_random',
                    '--licence', 'none: random benchmark weights', '--attribution', 'none',
                    '--source', f'tools/train/codec_speed.py --preset {args.preset} ' + ' '.join(args.set),
                    '--audio', f'{config.sample_rate},2,{config.frame_rate!r}']
                   + (['--codec-output-mode', config.output_mode] if config.output_mode else []),
                   check=True, stdout=subprocess.DEVNULL)
    result = subprocess.run([args.bench, '--warmup', str(args.warmup), '--frames', str(args.frames), package],
                            capture_output=True, text=True)
    print(result.stdout, result.stderr, sep='')
    return result.returncode


if __name__ == '__main__':
  sys.exit(main())
