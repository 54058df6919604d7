#!/usr/bin/env python3
"""Writes a random-weight checkpoint in the official Magenta RealTime 2 layout.

  tools/make_random_checkpoint.py tests/fixtures/mrt2/names_mrt2_small.txt \\
      build/bench-packages/mrt2_small_random.safetensors [--seed N] [--scale S]

The names list (path<TAB>shape<TAB>dtype, as in tests/fixtures/mrt2/names_*.txt) gives every
tensor's '/'-joined official name and shape; the output is a safetensors file holding those
tensors with random values, which tools/convert_mrt2.py converts like the real checkpoint.
It is for benchmarks: the arithmetic and the bytes touched per frame are those of the real
model, the music is noise.

Values keep activations sane through a forward pass: kernels are normal with standard
deviation scale/sqrt(fan_in) (fan_in: every axis but the output one), embeddings and
codebooks normal with standard deviation 0.02·scale, norm scales 1 + small noise, biases
and per-dim scales small normals, attention sinks normal like embeddings.

Tensors are generated and written one at a time (the header is computed from the shapes
first), so memory stays at the largest tensor, whatever the model's size.

Needs only numpy and the standard library (Debian: python3-numpy).
"""

import argparse
import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

_DTYPES = {'f32': ('F32', 4), 'bf16': ('BF16', 2)}


def read_names(path):
  entries = []
  for line_no, line in enumerate(Path(path).read_text().splitlines(), 1):
    if not line.strip() or line.startswith('#'):
      continue
    fields = line.split('\t')
    if len(fields) < 2:
      raise SystemExit(f'{path}:{line_no}: expected path<TAB>shape<TAB>dtype, got {line!r}')
    name, shape_text = fields[0], fields[1]
    shape = tuple(int(d) for d in shape_text.split('x')) if shape_text else ()
    entries.append((name, shape))
  if not entries:
    raise SystemExit(f'{path}: no tensors')
  return entries


def kind_of(name):
  leaf = name.rsplit('/', 1)[-1]
  parent = name.rsplit('/', 2)[-2] if name.count('/') >= 1 else ''
  if leaf == 'kernel':
    return 'kernel'
  if leaf == 'scale' and ('norm' in parent or parent.endswith('_ln') or 'ln' == parent):
    return 'norm_scale'
  if leaf in ('bias', 'per_dim_scale'):
    return 'small'
  return 'embedding'  # embedding tables, codebooks, attention sinks


def fan_in(name, shape):
  if len(shape) < 2:
    return max(1, shape[0] if shape else 1)
  if 'output_projection' in name:  # [model, heads, head_dim]: contracts heads and head_dim
    return math.prod(shape[1:])
  if 'attention/' in name and len(shape) == 3:  # q/k/v: [in, heads, head_dim]
    return shape[0]
  return math.prod(shape[:-1])  # dense [in, out]; conv [h, w, in, out]


def random_tensor(rng, name, shape, scale):
  kind = kind_of(name)
  n = math.prod(shape)
  if kind == 'kernel':
    std = scale / math.sqrt(fan_in(name, shape))
    a = rng.standard_normal(n, dtype=np.float32)
    a *= np.float32(std)
  elif kind == 'norm_scale':
    a = rng.standard_normal(n, dtype=np.float32)
    a *= np.float32(0.02)
    a += np.float32(1.0)
  elif kind == 'small':
    a = rng.standard_normal(n, dtype=np.float32)
    a *= np.float32(0.02 * scale)
  else:
    a = rng.standard_normal(n, dtype=np.float32)
    a *= np.float32(0.02 * scale)
  return a


def to_bf16_bits(a):  # round to nearest even, as the converter does
  bits = a.view(np.uint32)
  rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
  return (rounded >> np.uint32(16)).astype('<u2')


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('names', help='names list: path<TAB>shape<TAB>dtype per line')
  ap.add_argument('out', help='safetensors file to write')
  ap.add_argument('--seed', type=int, default=0, help='random seed (0)')
  ap.add_argument('--scale', type=float, default=1.0,
                  help='multiplies every random deviation except the norm scales (1.0)')
  ap.add_argument('--dtype', choices=tuple(_DTYPES), default='f32',
                  help='stored dtype (f32, as the official checkpoints; bf16 halves the file)')
  args = ap.parse_args(argv)

  entries = read_names(args.names)
  st_dtype, itemsize = _DTYPES[args.dtype]
  header, offset = {}, 0
  for name, shape in entries:
    size = math.prod(shape) * itemsize
    header[name] = {'dtype': st_dtype, 'shape': list(shape), 'data_offsets': [offset, offset + size]}
    offset += size
  header['__metadata__'] = {'format': 'random', 'names': Path(args.names).name,
                            'seed': str(args.seed), 'scale': repr(args.scale)}
  blob = json.dumps(header, separators=(',', ':')).encode()
  blob += b' ' * (-len(blob) % 8)  # the data starts 8-byte aligned

  out = Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  partial = out.with_name(out.name + '.partial')
  total = offset
  print(f'{out}: {len(entries)} tensors, {sum(math.prod(s) for _, s in entries) / 1e6:.1f} M '
        f'parameters, {total / 2**20:.0f} MiB ({args.dtype}), seed {args.seed}', flush=True)
  rng = np.random.default_rng(args.seed)
  started = time.monotonic()
  written, next_report = 0, 0.0
  with open(partial, 'wb') as f:
    f.write(struct.pack('<Q', len(blob)))
    f.write(blob)
    for name, shape in entries:
      a = random_tensor(rng, name, shape, args.scale)
      data = to_bf16_bits(a) if args.dtype == 'bf16' else a.astype('<f4', copy=False)
      f.write(data.tobytes())
      written += data.nbytes
      del a, data
      if written / max(total, 1) >= next_report or written == total:
        print(f'  {written / 2**20:7.0f} / {total / 2**20:.0f} MiB '
              f'({100 * written / max(total, 1):3.0f} %, {time.monotonic() - started:.1f} s)',
              flush=True)
        next_report += 0.1
  partial.replace(out)
  print(f'{out}: done in {time.monotonic() - started:.1f} s', flush=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
