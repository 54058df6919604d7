#!/usr/bin/env python3
"""Trains the text tower on a dataset's captions and writes the LM's per-clip style tokens
(docs/training-lm.md, "Style").

  .venv-train/bin/python tools/train/train_style.py --data DIR --out STYLE_DIR \
      [--paraphrases 8] [--steps 3000] [--device cpu|cuda] [--threads 1]
  .venv-train/bin/python tools/train/train_style.py --data DIR --tower STYLE_DIR

--tower quantizes DIR's captions with a tower trained before (STYLE_DIR of an earlier run)
and writes only DATA/style_tokens.npz: an LM trained on another dataset with that tower's
tokens then goes on learning with the same style vocabulary.

Records: every clip's caption plus --paraphrases more captions of the same clip, written by
tools/train/data/captions.py from the clip's metadata in other phrasings and word choices,
all labelled with the clip's style. style/training.py pulls captions of a style towards
one direction of the 768-d space and fits the 12 RVQ codebooks by residual k-means.
Writes STYLE_DIR/{text_tower.safetensors, text_vocab.txt, text_tower.toml (the model.toml
section), style.json (settings, metrics)} and DATA/style_tokens.npz (`index` [N],
`tokens` [N, 12]: the tokens of each clip's own caption, what train_lm.py conditions on).
"""

import argparse
import dataclasses
import json
import sys
import time
import tomllib
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lm_data  # noqa: E402
from common import dataset  # noqa: E402
from data import captions  # noqa: E402
from style import tower_files, training  # noqa: E402
from style.text_tower import TowerConfig, quantize  # noqa: E402


def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--data', type=Path, required=True)
  where = ap.add_mutually_exclusive_group(required=True)
  where.add_argument('--out', type=Path, help='directory for the new tower')
  where.add_argument('--tower', type=Path, help='an existing tower (train_style.py --out): only tokenise')
  ap.add_argument('--style-names', action='store_true',
                  help='with --tower: tokenise each clip\'s style name, not its caption (tokens that '
                       'name the style and cannot tell clips apart)')
  ap.add_argument('--paraphrases', type=int, default=8, help='extra captions per clip')
  ap.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
  ap.add_argument('--threads', type=int, default=1)
  for field in dataclasses.fields(TowerConfig) + dataclasses.fields(training.TrainConfig):
    ap.add_argument('--' + field.name.replace('_', '-'), type=type(field.default),
                    default=field.default)
  return ap.parse_args(argv)


def piece_of(meta: dict):
  """What captions.caption reads of a composed piece, rebuilt from a clip's metadata."""
  return types.SimpleNamespace(
      style=types.SimpleNamespace(name=meta['style']), bpm=meta['bpm'], dynamic=meta['dynamic'],
      moods=tuple(meta['moods']), key=captions.KEY_NAMES.index(meta['key']), mode=meta['mode'],
      beats_per_bar=meta['beats_per_bar'])


def read_clips(data: Path):
  """(clip index [N], caption [N], meta [N]) of every shard."""
  index, texts, metas = [], [], []
  for shard in dataset.Shards(data).manifest['shards']:
    with np.load(data / shard['file']) as f:
      index += f['index'].tolist()
      texts += f['caption'].tolist()
      metas += [json.loads(m) for m in f['meta'].tolist()]
  return np.array(index, np.int64), texts, metas


def records_of(index, texts, metas, paraphrases: int, seed: int) -> list[training.Record]:
  records = []
  for i, text, meta in zip(index, texts, metas):
    rng = np.random.default_rng([seed, int(i)])
    piece = piece_of(meta)
    records.append(training.Record(text, meta['style']))
    records += [training.Record(captions.caption(piece, meta['instruments'], rng), meta['style'])
                for _ in range(paraphrases)]
  return records


def clip_tokens(tower, texts) -> np.ndarray:
  codebooks = tower.codebooks.cpu().numpy()
  return np.stack([quantize(codebooks, e)[0] for e in tower.embed(texts)]).astype(np.int16)


def style_accuracy(tower, texts, metas) -> float:
  """Nearest style centroid of each caption's embedding: how well captions separate by style."""
  embeddings = tower.embed(texts)
  styles = sorted({m['style'] for m in metas})
  labels = np.array([styles.index(m['style']) for m in metas])
  centroids = np.stack([embeddings[labels == s].mean(0) for s in range(len(styles))])
  return float(np.mean(np.argmax(embeddings @ centroids.T, 1) == labels))


def tokenise_with(tower_dir: Path, data: Path, style_names: bool) -> int:
  """DATA/style_tokens.npz from an existing tower: its [text_tower] section gives the sizes."""
  section = tomllib.loads((tower_dir / 'text_tower.toml').read_text())['text_tower']
  config = TowerConfig(**{f.name: section[f.name] for f in dataclasses.fields(TowerConfig)})
  tower = tower_files.load(tower_dir, config)
  index, texts, metas = read_clips(data)
  tokens = clip_tokens(tower, [m['style'] for m in metas] if style_names else texts)
  np.savez(data / lm_data.STYLE_TOKENS, index=index, tokens=tokens)
  print(f'{data / lm_data.STYLE_TOKENS}: {len(index)} clips tokenised by {tower_dir} '
        f'({len({tuple(t) for t in tokens})} distinct token sets)', file=sys.stderr)
  return 0


def main(argv=None):
  args = parse_args(argv)
  if args.tower:
    return tokenise_with(args.tower, args.data, args.style_names)
  if args.paraphrases < 0:
    print('train_style: error: --paraphrases must be >= 0', file=sys.stderr)
    return 2
  torch.set_num_threads(args.threads)
  pick = lambda cls: cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})
  index, texts, metas = read_clips(args.data)
  records = records_of(index, texts, metas, args.paraphrases, args.seed)
  vocabulary = training.build_vocabulary([r.text for r in records])
  print(f'{len(index)} clips, {len(records)} captions, {len(vocabulary)} vocabulary words',
        file=sys.stderr)
  began = time.monotonic()
  tower = training.train(records, pick(TowerConfig), pick(training.TrainConfig), vocabulary,
                         args.device, log=lambda line: print(line, file=sys.stderr, flush=True))
  tokens = clip_tokens(tower, texts)
  np.savez(args.data / lm_data.STYLE_TOKENS, index=index, tokens=tokens)
  section = tower_files.export(tower, args.out)
  (args.out / 'text_tower.toml').write_text(section)
  summary = {'clips': len(index), 'captions': len(records), 'vocabulary': len(vocabulary),
             'wall_seconds': round(time.monotonic() - began, 1),
             'distinct_clip_token_sets': len({tuple(t) for t in tokens}),
             'style_nearest_centroid_accuracy': style_accuracy(tower, texts, metas),
             'tower': dataclasses.asdict(pick(TowerConfig)),
             'training': dataclasses.asdict(pick(training.TrainConfig))}
  (args.out / 'style.json').write_text(json.dumps(summary, indent=1) + '\n')
  print(json.dumps({k: v for k, v in summary.items() if not isinstance(v, dict)}), file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
