#!/usr/bin/env python3
"""Trains the text tower on captions and writes it into a model package directory.

  .venv-train/bin/python tools/train/train_text_tower.py --captions captions.jsonl --out models/default

captions.jsonl: one JSON object a line, {"text": ..., "label": ...} and/or {"text": ..., "target":
[768 floats]} (style/training.py). Writes <out>/text_tower.safetensors and <out>/text_vocab.txt
and prints the [text_tower] section for <out>/model.toml (the packager appends it).
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style import tower_files, training  # noqa: E402
from style.text_tower import TowerConfig  # noqa: E402


def read_records(path: Path) -> list[training.Record]:
  records = []
  for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
    if not line.strip():
      continue
    item = json.loads(line)
    if 'text' not in item or ('label' not in item and 'target' not in item):
      raise SystemExit(f'{path}:{number}: needs "text" and a "label" or a "target"')
    target = np.asarray(item['target'], np.float32) if 'target' in item else None
    records.append(training.Record(item['text'], item.get('label'), target))
  return records


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--captions', type=Path, required=True)
  parser.add_argument('--out', type=Path, required=True, help='the package directory')
  parser.add_argument('--vocab', type=Path, help='vocabulary file (default: caption words seen --min-count times)')
  parser.add_argument('--min-count', type=int, default=2)
  parser.add_argument('--device', help='cuda or cpu (default: cuda when available)')
  for field in dataclasses.fields(TowerConfig) + dataclasses.fields(training.TrainConfig):
    parser.add_argument('--' + field.name.replace('_', '-'), type=type(field.default), default=field.default)
  args = parser.parse_args()
  pick = lambda cls: cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})

  records = read_records(args.captions)
  vocabulary = (args.vocab.read_text(encoding='utf-8').splitlines() if args.vocab else
                training.build_vocabulary([r.text for r in records], args.min_count))
  print(f'{len(records)} captions, {len(vocabulary)} vocabulary words', file=sys.stderr)
  tower = training.train(records, pick(TowerConfig), pick(training.TrainConfig), vocabulary, args.device,
                         log=lambda line: print(line, file=sys.stderr))
  print(tower_files.export(tower, args.out), end='')


if __name__ == '__main__':
  main()
