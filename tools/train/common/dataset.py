"""Read a training dataset made by tools/train/data/build.py (docs/training-data.md).

  data = Shards('/work/data/v1')     # checks manifest.json and every shard before any training
  len(data), data.sample_rate, data.samples_per_clip, data.frames_per_clip, data.styles
  clip = data[17]                    # Clip: audio int16 [samples, 2], notes, drums, caption, ...
  audio = data.audio(17)             # just the audio, a read-only memory map
  for clip in data: ...
  codes = data.codes('codec1')       # int16 [clips, frames, 12] of tools/train/tokenize_dataset.py

Shards are uncompressed .npz files (np.savez), so every array is memory-mapped in place:
random crops touch only the pages they read, and a dataset larger than memory still works.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 'continuo-train-data'
LOCAL_HEADER = struct.Struct('<4sHHHHHIIIHH')  # zip local file header (30 bytes)


class DatasetError(Exception):
  """The dataset directory is missing, incomplete or not the format this reader knows."""


@dataclass(frozen=True)
class Clip:
  index: int            # clip index in the dataset (build.py's, from its seed)
  audio: np.ndarray     # int16 [samples, channels]
  notes: np.ndarray     # uint8 [frames, 128]: 0 off, 1 held, 2 onset
  drums: np.ndarray     # uint8 [frames]
  caption: str
  style: int            # index into Shards.styles


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
  """name -> array of an .npz, memory-mapped where the member is stored uncompressed."""
  out = {}
  with zipfile.ZipFile(path) as archive, open(path, 'rb') as f:
    for info in archive.infolist():
      name = info.filename.removesuffix('.npy')
      if info.compress_type != zipfile.ZIP_STORED:
        out[name] = np.load(path)[name]
        continue
      f.seek(info.header_offset)
      fields = LOCAL_HEADER.unpack(f.read(LOCAL_HEADER.size))
      f.seek(info.header_offset + LOCAL_HEADER.size + fields[9] + fields[10])  # name, extra lengths
      version = np.lib.format.read_magic(f)
      read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                     else np.lib.format.read_array_header_2_0)
      shape, fortran, dtype = read_header(f)
      if dtype.hasobject:
        raise DatasetError(f'{path}: array {name} holds Python objects; rebuild the dataset')
      out[name] = np.memmap(path, dtype=dtype, mode='r', offset=f.tell(), shape=shape,
                            order='F' if fortran else 'C')
  return out


class Shards:
  """Random access to the clips of one dataset directory."""

  ARRAYS = ('audio', 'notes', 'drums', 'caption', 'style', 'index')

  def __init__(self, directory):
    self.dir = Path(directory)
    manifest_path = self.dir / 'manifest.json'
    if not self.dir.is_dir():
      raise DatasetError(f'{self.dir}: no such dataset directory')
    if not manifest_path.is_file():
      raise DatasetError(f'{self.dir}: no manifest.json (build.py writes it last: is the build finished?)')
    try:
      self.manifest = json.loads(manifest_path.read_text())
    except ValueError as e:
      raise DatasetError(f'{manifest_path}: not JSON ({e})') from e
    if self.manifest.get('format') != FORMAT:
      raise DatasetError(f'{manifest_path}: format {self.manifest.get("format")!r} is not {FORMAT!r}')
    audio, labels = self.manifest['audio'], self.manifest['labels']
    self.sample_rate = int(audio['sample_rate'])
    self.channels = int(audio['channels'])
    self.samples_per_clip = int(audio['samples_per_clip'])
    self.frame_samples = int(labels['frame_samples'])
    self.frames_per_clip = int(labels['frames_per_clip'])
    self.styles = list(self.manifest['styles'])
    self._shards = [self._open_shard(entry) for entry in self.manifest['shards']]
    self._starts = np.cumsum([0] + [len(s['audio']) for s in self._shards])
    if len(self) == 0:
      raise DatasetError(f'{self.dir}: the dataset has no clips')

  def _open_shard(self, entry) -> dict[str, np.ndarray]:
    path = self.dir / entry['file']
    if not path.is_file():
      raise DatasetError(f'{path}: shard listed in manifest.json is missing')
    try:
      arrays = _npz_arrays(path)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
      raise DatasetError(f'{path}: not a readable .npz shard ({e})') from e
    missing = [a for a in self.ARRAYS if a not in arrays]
    if missing:
      raise DatasetError(f'{path}: arrays {missing} missing')
    want = (entry['clips'], self.samples_per_clip, self.channels)
    if arrays['audio'].shape != want or arrays['audio'].dtype != np.int16:
      raise DatasetError(f'{path}: audio is {arrays["audio"].dtype} {list(arrays["audio"].shape)}, '
                         f'manifest says int16 {list(want)}')
    return arrays

  def __len__(self) -> int:
    return int(self._starts[-1])

  def _locate(self, i: int) -> tuple[dict[str, np.ndarray], int]:
    if not 0 <= i < len(self):
      raise IndexError(f'clip {i} out of range (dataset has {len(self)})')
    shard = int(np.searchsorted(self._starts, i, side='right')) - 1
    return self._shards[shard], i - int(self._starts[shard])

  def audio(self, i: int) -> np.ndarray:
    """int16 [samples, channels] of clip i (a read-only memory map)."""
    shard, j = self._locate(i)
    return shard['audio'][j]

  def __getitem__(self, i: int) -> Clip:
    shard, j = self._locate(i)
    return Clip(index=int(shard['index'][j]), audio=shard['audio'][j], notes=shard['notes'][j],
                drums=shard['drums'][j], caption=str(shard['caption'][j]), style=int(shard['style'][j]))

  def __iter__(self):
    return (self[i] for i in range(len(self)))

  def codes(self, name: str) -> np.ndarray:
    """The audio tokens tokenize_dataset.py wrote under `name`: int16 [clips, frames, levels],
    codes[i, t] aligned with clip i's label frame t (memory-mapped)."""
    entry = self.manifest.get('codes', {}).get(name)
    if entry is None:
      known = sorted(self.manifest.get('codes', {}))
      raise DatasetError(f'{self.dir}: no codes named {name!r} (have {known}); run tools/train/tokenize_dataset.py')
    codes = _npz_arrays(self.dir / entry['file'])['codes']
    if codes.shape[:2] != (len(self), self.frames_per_clip):
      raise DatasetError(f'{self.dir / entry["file"]}: codes {list(codes.shape)} do not match '
                         f'{len(self)} clips x {self.frames_per_clip} frames')
    return codes

  @property
  def seconds(self) -> float:
    """Audio in the whole dataset."""
    return len(self) * self.samples_per_clip / self.sample_rate
