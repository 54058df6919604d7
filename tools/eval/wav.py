"""Reads and writes WAV files (16-bit PCM and 32-bit float) with NumPy only.

Python's `wave` module refuses IEEE-float WAV, which is what `continuo render` writes,
so this reads the RIFF chunks itself.
"""

import struct
from pathlib import Path

import numpy as np

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE


class WavError(Exception):
  pass


def read(path):
  """Returns (samples float32 [frames, channels], sample_rate)."""
  data = Path(path).read_bytes()
  if len(data) < 12 or data[:4] != b'RIFF' or data[8:12] != b'WAVE':
    raise WavError(f'{path}: not a RIFF/WAVE file')
  fmt = None
  offset = 12
  while offset + 8 <= len(data):
    chunk_id, size = data[offset:offset + 4], struct.unpack('<I', data[offset + 4:offset + 8])[0]
    body = data[offset + 8:offset + 8 + size]
    if chunk_id == b'fmt ':
      fmt = struct.unpack('<HHIIHH', body[:16])
    elif chunk_id == b'data':
      if fmt is None:
        raise WavError(f'{path}: data chunk before fmt chunk')
      return _decode(path, fmt, body)
    offset += 8 + size + (size & 1)
  raise WavError(f'{path}: no data chunk')


def _decode(path, fmt, body):
  tag, channels, rate, _, _, bits = fmt
  if tag == _EXTENSIBLE:
    tag = _FLOAT if bits == 32 else _PCM
  if tag == _FLOAT and bits == 32:
    samples = np.frombuffer(body, dtype='<f4', count=len(body) // 4)
  elif tag == _PCM and bits == 16:
    samples = np.frombuffer(body, dtype='<i2', count=len(body) // 2).astype(np.float32) / 32768.0
  else:
    raise WavError(f'{path}: unsupported WAV format (tag {tag}, {bits} bits); 16-bit PCM or 32-bit float')
  frames = len(samples) // channels
  return samples[:frames * channels].reshape(frames, channels).astype(np.float32), rate


def write_float(path, samples, rate):
  """Writes float32 [frames, channels] as an IEEE-float WAV."""
  samples = np.asarray(samples, dtype='<f4')
  if samples.ndim == 1:
    samples = samples[:, None]
  channels = samples.shape[1]
  body = samples.tobytes()
  fmt = struct.pack('<HHIIHH', _FLOAT, channels, rate, rate * channels * 4, channels * 4, 32)
  riff = b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'data' + struct.pack('<I', len(body)) + body
  Path(path).write_bytes(b'RIFF' + struct.pack('<I', len(riff)) + riff)
