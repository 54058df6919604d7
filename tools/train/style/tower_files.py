"""The text tower's files in a model package (docs/text-tower.md, "Package files").

  <package>/text_tower.safetensors   F32 tensors text.words, text.buckets, text.mlp.{w1,b1,w2,b2},
                                     text.rvq.codebooks
  <package>/text_vocab.txt           the vocabulary, one word per line, UTF-8, row i = line i+1
  <package>/model.toml [text_tower]  file names and the TowerConfig integers

export() writes the first two and returns the [text_tower] section for the packager's model.toml.
"""

import json
import struct
from pathlib import Path

import numpy as np
import torch

from style.text_tower import TextTower, TowerConfig

WEIGHTS = 'text_tower.safetensors'
VOCAB = 'text_vocab.txt'


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
  """F32 tensors in name order, header padded to 8 bytes: deterministic bytes, every tensor
  4-aligned (what continuo's reader requires)."""
  header, offset = {}, 0
  if metadata:
    header['__metadata__'] = metadata
  for name in sorted(tensors):
    size = tensors[name].size * 4
    header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + size]}
    offset += size
  text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
  text += b' ' * (-len(text) % 8)
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text)
    for name in sorted(tensors):
      f.write(np.ascontiguousarray(tensors[name], dtype='<f4').tobytes())


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
  data = bytearray(Path(path).read_bytes())  # writable: torch.from_numpy warns on read-only
  (n,) = struct.unpack('<Q', data[:8])
  header = json.loads(data[8:8 + n])
  metadata = header.pop('__metadata__', {})
  tensors = {}
  for name, info in header.items():
    if info['dtype'] != 'F32':
      raise ValueError(f'{path}: tensor {name!r}: {info["dtype"]} (this reader takes F32)')
    begin, end = info['data_offsets']
    tensors[name] = np.frombuffer(data[8 + n + begin:8 + n + end], '<f4').reshape(info['shape'])
  return tensors, metadata


def tensors_of(tower: TextTower) -> dict[str, np.ndarray]:
  as_array = lambda t: t.detach().cpu().numpy().astype(np.float32)
  return {
      'text.words': as_array(tower.words.weight),
      'text.buckets': as_array(tower.buckets.weight),
      'text.mlp.w1': as_array(tower.w1.weight),  # nn.Linear is [out, in]: kernels/dense's layout
      'text.mlp.b1': as_array(tower.w1.bias),
      'text.mlp.w2': as_array(tower.w2.weight),
      'text.mlp.b2': as_array(tower.w2.bias),
      'text.rvq.codebooks': as_array(tower.codebooks),
  }


def manifest_section(config: TowerConfig) -> str:
  keys = [f'weights = "{WEIGHTS}"', f'vocab = "{VOCAB}"'] + [
      f'{field} = {getattr(config, field)}' for field in TowerConfig.__dataclass_fields__]
  return '[text_tower]\n' + '\n'.join(keys) + '\n'


def export(tower: TextTower, out: Path) -> str:
  """Writes the weights and the vocabulary into the package directory `out`; returns the
  [text_tower] section of its model.toml."""
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  write_safetensors(out / WEIGHTS, tensors_of(tower))
  (out / VOCAB).write_text(''.join(word + '\n' for word in tower.vocab), encoding='utf-8')
  return manifest_section(tower.config)


def load(package: Path, config: TowerConfig) -> TextTower:
  """The tower export() wrote (config: the [text_tower] integers of its model.toml)."""
  package = Path(package)
  vocab = (package / VOCAB).read_text(encoding='utf-8').splitlines()
  tensors, _ = read_safetensors(package / WEIGHTS)
  tower = TextTower(config, vocab)
  with torch.no_grad():
    tower.words.weight.copy_(torch.from_numpy(tensors['text.words']))
    tower.buckets.weight.copy_(torch.from_numpy(tensors['text.buckets']))
    tower.w1.weight.copy_(torch.from_numpy(tensors['text.mlp.w1']))
    tower.w1.bias.copy_(torch.from_numpy(tensors['text.mlp.b1']))
    tower.w2.weight.copy_(torch.from_numpy(tensors['text.mlp.w2']))
    tower.w2.bias.copy_(torch.from_numpy(tensors['text.mlp.b2']))
    tower.codebooks.copy_(torch.from_numpy(tensors['text.rvq.codebooks']))
  return tower
