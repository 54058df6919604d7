"""The LM's training data: per clip, codec codes, note state, drum flag and style tokens,
cut into random windows of T frames (docs/training-lm.md, "Training").

Reads a dataset directory of tools/train/data/build.py through common.dataset (notes uint8
[C, F, 128] 0 off / 1 held / 2 onset, drums uint8 [C, F], index), the codes
tools/train/tokenize_dataset.py wrote under a name (int16 [C, F, 12]) and the per-clip style
tokens of train_style.py (`style_tokens.npz`: `index` [N], `tokens` [N, 12]). Audio is never
read: the shards are memory-mapped. A pack (save_pack, tools/train/pack_lm_data.py) holds all of
that in one compressed file, for a GPU call whose carry cannot hold the audio.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from common import dataset

STYLE_TOKENS = 'style_tokens.npz'
LEVELS = 12
# continuo sends its default CFG scales (engine/control_state.hpp: 5.0 for style, notes and
# drums) as bins (model/conditioning.cpp): (5 + 1) / 0.2 = 30 and (5 + 1) / 1 = 6. Training
# holds them there so the inert CFG inputs see at inference exactly what they saw in training.
CFG_BIN = 30
CFG_DRUM_BIN = 6


class DataError(ValueError):
  pass


@dataclasses.dataclass
class Clips:
  """Every clip of a dataset, in memory (labels and codes only: ~120 kB per 30 s clip)."""
  index: np.ndarray   # int64 [N]: clip index of the dataset
  codes: np.ndarray   # int16 [N, F, 12]
  notes: np.ndarray   # uint8 [N, F, 128]
  drums: np.ndarray   # uint8 [N, F]
  style: np.ndarray   # int64 [N, 12], -1 where no style tokens are given

  def __len__(self):
    return len(self.index)

  @property
  def frames(self):
    return self.codes.shape[1]

  def subset(self, rows):
    return Clips(*(getattr(self, f.name)[rows] for f in dataclasses.fields(self)))


def style_tokens_path(data: Path, given: str | None) -> Path | None:
  """--style-tokens: a file, "none" (style masked), or by default DATA/style_tokens.npz."""
  if given == 'none':
    return None
  path = Path(given) if given else data / STYLE_TOKENS
  if not path.is_file():
    raise DataError(f'{path}: no style tokens (run tools/train/train_style.py, or pass '
                    '--style-tokens none to train with the style masked)')
  return path


def read_style_tokens(path: Path, index: np.ndarray) -> np.ndarray:
  with np.load(path) as f:
    by_clip = dict(zip(f['index'].tolist(), f['tokens'].astype(np.int64)))
  missing = [int(i) for i in index if int(i) not in by_clip]
  if missing:
    raise DataError(f'{path}: no style tokens for {len(missing)} clips (first: {missing[:5]}); '
                    'run tools/train/train_style.py on this dataset')
  return np.stack([by_clip[int(i)] for i in index])


def load(data: Path, codes_name: str, style_tokens: Path | None) -> Clips:
  """All clips of `data` with the codes tokenize_dataset.py wrote under `codes_name`
  (codes[t] aligned with label frame t); style_tokens None: style masked (-1) everywhere."""
  try:
    shards = dataset.Shards(data)
    codes = np.asarray(shards.codes(codes_name))
  except dataset.DatasetError as e:
    raise DataError(str(e)) from e
  clips = [shards[i] for i in range(len(shards))]
  index = np.array([c.index for c in clips], np.int64)
  notes = np.stack([c.notes for c in clips])
  drums = np.stack([c.drums for c in clips])
  style = (read_style_tokens(style_tokens, index) if style_tokens
           else np.full((len(index), LEVELS), -1, np.int64))
  return Clips(index, codes, notes, drums, style)


def save_pack(clips: Clips, path: Path, origin: dict) -> None:
  """Every array of clips in one compressed file, with where they came from (origin: data,
  codes, style_tokens)."""
  np.savez_compressed(path, origin=np.array(json.dumps(origin)),
                      **{f.name: getattr(clips, f.name) for f in dataclasses.fields(Clips)})


def load_pack(path: Path) -> tuple[Clips, dict]:
  """(clips, origin) of a save_pack file."""
  names = ['origin'] + [f.name for f in dataclasses.fields(Clips)]
  try:
    with np.load(path) as f:
      missing = [name for name in names if name not in f.files]
      if missing:
        raise DataError(f'{path}: not an LM data pack (no {", ".join(missing)}); '
                        'write one with tools/train/pack_lm_data.py')
      return Clips(*(f[name] for name in names[1:])), json.loads(str(f['origin']))
  except (OSError, ValueError) as e:
    raise DataError(f'{path}: cannot read the LM data pack ({e})') from e


def split(clips: Clips, validation: int) -> tuple[Clips, Clips]:
  """The last `validation` clips (by index) are held out. Styles take turns in build.py's
  clip order, so the held-out clips cover the styles evenly."""
  order = np.argsort(clips.index)
  return clips.subset(order[:-validation]), clips.subset(order[-validation:])


def problems_with(clips: Clips, codebook: int, style_codes: int, window: int) -> list[str]:
  """What makes these clips unusable for a model of this codebook / style vocabulary /
  window (empty when all is well)."""
  problems = []
  if clips.frames < window:
    problems.append(f'window = {window} frames, but clips have only {clips.frames}')
  top = int(clips.codes.max())
  if clips.codes.min() < 0 or top >= codebook:
    problems.append(f'codes span {int(clips.codes.min())}..{top}: the model codebook is '
                    f'{codebook} (codes 0..{codebook - 1}); was the dataset tokenised by '
                    'another codec?')
  if clips.style.max() >= style_codes:
    problems.append(f'style tokens reach {int(clips.style.max())}: style_vocab holds '
                    f'0..{style_codes - 1}')
  if clips.notes.max() > 2 or clips.drums.max() > 1:
    problems.append('notes must be 0/1/2 and drums 0/1 (tools/train/data labels)')
  return problems


def gather(clips: Clips, rows, frames, device) -> dict:
  """The Depthformer batch (raw values, docs/training-lm.md) of frame frames[b, t] of clip
  rows[b, t] (both [B, T])."""
  rows, frames = np.asarray(rows), np.asarray(frames)
  b, t = frames.shape
  as_long = lambda a: torch.from_numpy(np.ascontiguousarray(a).astype(np.int64)).to(device)
  return {
      'codes': as_long(clips.codes[rows, frames]),
      'note_state': as_long(clips.notes[rows, frames]),
      'drum': as_long(clips.drums[rows, frames]),
      'style_tokens': as_long(clips.style[rows]),
      'cfg_tokens': torch.full((b, t, 2), CFG_BIN, dtype=torch.long, device=device),
      'cfg_drum_token': torch.full((b, t), CFG_DRUM_BIN, dtype=torch.long, device=device),
  }


def batch_of(clips: Clips, rows, starts, window: int, device) -> dict:
  """Windows [start, start + T) of clips `rows`."""
  frames = np.asarray(starts)[:, None] + np.arange(window)[None]
  return gather(clips, np.broadcast_to(np.asarray(rows)[:, None], frames.shape), frames, device)


def spliced(rows, starts, window: int, others, cuts):
  """rows [B, T] / frames [B, T] of windows that switch at frame cuts[b] to clip others[b]
  at the same positions: the history says one clip, the conditioning and targets after the
  cut another. Only the conditioning can predict the frames after a cut, as when a
  performer changes chords or prompt live; uncut clips let the history predict everything,
  and a small LM then learns to ignore the notes (docs/models.md)."""
  frames = np.asarray(starts)[:, None] + np.arange(window)[None]
  after = np.arange(window)[None] >= np.asarray(cuts)[:, None]
  return np.where(after, np.asarray(others)[:, None], np.asarray(rows)[:, None]), frames


def random_batch(clips: Clips, size: int, window: int, rng: np.random.Generator, device,
                 splice: float = 0.0):
  """Random windows; a fraction `splice` of them spliced at a random frame (spliced())."""
  rows = rng.integers(0, len(clips), size)
  starts = rng.integers(0, clips.frames - window + 1, size)
  others = rng.integers(0, len(clips), size)
  cuts = np.where(rng.random(size) < splice, rng.integers(1, window, size), window)
  return gather(clips, *spliced(rows, starts, window, others, cuts), device)


def validation_batches(clips: Clips, size: int, window: int, device, splice: bool = False):
  """Every whole window of every held-out clip, the same each time; splice: each cut at
  mid-window to the same window of the next held-out clip."""
  pairs = [(r, s) for r in range(len(clips)) for s in range(0, clips.frames - window + 1, window)]
  for i in range(0, len(pairs), size):
    rows, starts = (np.array(x) for x in zip(*pairs[i:i + size]))
    others = (rows + 1) % len(clips) if splice else rows
    yield gather(clips, *spliced(rows, starts, window, others, np.full(len(rows), window // 2)),
                 device)
