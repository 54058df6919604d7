"""safetensors read/write for the official raw-checkpoint layout (NumPy only).

The official Magenta RealTime 2 checkpoints are safetensors files whose keys are
"/"-joined flax parameter paths (`params/depthformer/...`, `params/soundstream/...`,
tests/fixtures/mrt2/names_mrt2_small.txt). This module knows nothing about the models:
it maps names to arrays and back, so every mrt2_torch module can share it.

  load(path) -> dict[name, np.ndarray]   # float tensors widened to float32 (BF16/F16 too)
  save(path, tensors)                     # float32 by default, or dtype='bf16'

The format: 8-byte little-endian header length, a JSON header {name: {dtype, shape,
data_offsets}}, then the data. Written files are deterministic (sorted keys, no metadata
timestamps) and readable by the safetensors package and continuo's C++ reader.
"""

import json
import struct
from pathlib import Path

import numpy as np

_READ = {'F32': '<f4', 'F16': '<f2', 'F64': '<f8', 'BF16': '<u2', 'I32': '<i4', 'I64': '<i8',
         'U32': '<u4', 'I16': '<i2', 'U8': 'u1', 'I8': 'i1', 'BOOL': '?'}
_WRITE = {np.dtype('<f4'): 'F32', np.dtype('<f8'): 'F64', np.dtype('<f2'): 'F16',
          np.dtype('<i4'): 'I32', np.dtype('<i8'): 'I64', np.dtype('<u4'): 'U32',
          np.dtype('<i2'): 'I16', np.dtype('u1'): 'U8', np.dtype('i1'): 'I8',
          np.dtype('?'): 'BOOL'}

_SIZES = {'F64': 8, 'I64': 8, 'F32': 4, 'I32': 4, 'U32': 4, 'F16': 2, 'BF16': 2, 'I16': 2,
          'U8': 1, 'I8': 1, 'BOOL': 1}


class CheckpointError(Exception):
  pass


def read_header(path):
  """(header dict without __metadata__, byte offset of the data)."""
  path = Path(path)
  try:
    with open(path, 'rb') as f:
      (n,) = struct.unpack('<Q', f.read(8))
      header = json.loads(f.read(n))
  except (OSError, struct.error, ValueError) as e:
    raise CheckpointError(f'{path}: not a readable safetensors file ({e})') from e
  header.pop('__metadata__', None)
  return header, 8 + n


def load(path, prefix=''):
  """Every tensor whose name starts with `prefix`, as NumPy arrays (floats as float32,
  integers keep their type). Reads the whole selection into memory."""
  header, start = read_header(path)
  out = {}
  with open(path, 'rb') as f:
    for name, t in header.items():
      if not name.startswith(prefix):
        continue
      if t['dtype'] not in _READ:
        raise CheckpointError(f'{path}: tensor {name}: dtype {t["dtype"]} not supported')
      begin, end = t['data_offsets']
      f.seek(start + begin)
      raw = np.frombuffer(f.read(end - begin), dtype=_READ[t['dtype']])
      raw = raw.reshape(t['shape'])
      if t['dtype'] == 'BF16':
        raw = (raw.astype('<u4') << 16).view('<f4')
      elif t['dtype'] in ('F16', 'F64'):
        raw = raw.astype('<f4')
      out[name] = np.array(raw)  # writable, owns its memory
  return out


def _bf16_bits(a):
  """float32 -> bfloat16 bits, round to nearest even."""
  bits = np.ascontiguousarray(a, dtype='<f4').view('<u4')
  return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype('<u2')


def save(path, tensors, dtype=None):
  """Writes {name: array-like} (NumPy arrays or anything np.asarray takes, e.g. CPU torch
  tensors via .numpy()). dtype=None keeps each array's dtype (float64 is narrowed to
  float32); dtype='bf16' stores floating tensors as BF16. The header is padded with spaces
  to a multiple of 8 bytes and the data ordered by element size (largest first, then by
  name), so every tensor starts aligned to its element size with no gaps, as continuo's
  reader requires."""
  entries, offset = [], 0
  for name in sorted(tensors):
    a = np.asarray(tensors[name])
    if a.dtype == np.float64:
      a = a.astype('<f4')
    if dtype == 'bf16' and a.dtype.kind == 'f':
      code, data = 'BF16', _bf16_bits(a).tobytes()
    else:
      a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder('<'))
      if a.dtype not in _WRITE:
        raise CheckpointError(f'tensor {name}: dtype {a.dtype} not supported')
      code, data = _WRITE[a.dtype], a.tobytes()
    entries.append((name, code, list(a.shape), data))
  header = {}
  entries.sort(key=lambda e: (-_SIZES[e[1]], e[0]))
  for name, code, shape, data in entries:
    header[name] = {'dtype': code, 'shape': shape,
                    'data_offsets': [offset, offset + len(data)]}
    offset += len(data)
  text = json.dumps(header, sort_keys=True, separators=(',', ':')).encode()
  text += b' ' * (-len(text) % 8)
  path = Path(path)
  tmp = path.with_name(path.name + '.tmp')
  with open(tmp, 'wb') as f:
    f.write(struct.pack('<Q', len(text)))
    f.write(text)
    for _, _, _, data in entries:
      f.write(data)
  tmp.replace(path)
