#!/usr/bin/env python3
"""The most a codec lets an LM score on issue 6's adherence measures: tools/eval/evaluate.py's
MIDI and style measures on real audio passed through the codec (encode -> decode).
  .venv-train/bin/python tools/train/codec_ceiling.py --codec RUN --data DIR --heldout DIR \
      [--out FILE.json] [--threads 2]
An LM can at best play what the codec's codes can say, so an LM whose renders score below
these numbers may be at fault, one at them is held back by its codec. Measured:
- MIDI: evaluate.py's chord piece played by the dataset's synth and soundfont, its chroma
  adherence (precision / recall) as played and after the codec;
- style: evaluate.py's classifier, trained on DIR's ground truth, on the first seconds of each
  clip of HELDOUT (a dataset built with another seed: clips neither the classifier nor the codec
  saw) as rendered and after the codec.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))
sys.path.insert(0, str(ROOT / 'tools' / 'eval'))
import evaluate  # noqa: E402
import metrics  # noqa: E402
import style_classifier  # noqa: E402
from codec_run import load_run_codec  # noqa: E402
from common.cli import refuse  # noqa: E402
from common.dataset import DatasetError, Shards  # noqa: E402
from mrt2_torch.spectrostream import SpectroStream  # noqa: E402

PROG = 'codec_ceiling.py'


def parse(argv):
  p = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
  p.add_argument('--codec', type=Path, required=True, help='finished train_codec.py run directory')
  p.add_argument('--data', type=Path, required=True, help='dataset the classifier trains on (as evaluate.py)')
  p.add_argument('--heldout', type=Path, required=True, help='dataset of unseen clips to pass through the codec')
  p.add_argument('--out', type=Path, help='also write the results here (JSON)')
  p.add_argument('--threads', type=int, default=2)
  return p.parse_args(argv)


def round_trip(model: SpectroStream, audio: np.ndarray) -> np.ndarray:
  """float32 [samples, 2] -> the codec's decoding of its codes, as continuo plays them."""
  with torch.no_grad():
    return model.decode(model.encode(torch.from_numpy(np.ascontiguousarray(audio.T, np.float32))[None]))[0].T.numpy()


def midi_ceiling(model, data_dir) -> dict:
  notes, _ = evaluate.chord_piece_midi()
  held = evaluate.held_pitch_classes(notes)
  played = evaluate.chord_piece_played(data_dir)
  return {'played': metrics.chroma_adherence(played, evaluate.RATE, held),
          'through_codec': metrics.chroma_adherence(round_trip(model, played), evaluate.RATE, held)}


def style_ceiling(model, data: Shards, heldout: Shards) -> dict:
  rows, labels = evaluate.ground_truth_features(data)
  classifier = style_classifier.StyleClassifier.fit(rows, labels, data.styles)
  played, decoded, truth = [], [], []
  for i in range(len(heldout)):
    audio = evaluate.clip_audio(heldout, i)
    played.append(style_classifier.features(audio, heldout.sample_rate))
    decoded.append(style_classifier.features(round_trip(model, audio), heldout.sample_rate))
    truth.append(data.styles.index(heldout.styles[heldout[i].style]))
    print(f'{PROG}: clip {i + 1}/{len(heldout)}', file=sys.stderr, flush=True)
  accuracy = lambda rows_: float(np.mean(classifier.predict(rows_) == np.array(truth)))
  return {'clips': len(heldout), 'seconds': evaluate.clip_seconds(heldout), 'played': accuracy(played),
          'through_codec': accuracy(decoded)}


def main(argv=None) -> int:
  args = parse(argv)
  try:
    config, weights, _ = load_run_codec(args.codec)
    data, heldout = Shards(args.data), Shards(args.heldout)
  except (FileNotFoundError, DatasetError) as e:
    refuse(PROG, str(e))
  if set(heldout.styles) - set(data.styles):
    refuse(PROG, f'{args.heldout} has styles {args.data} lacks: {sorted(set(heldout.styles) - set(data.styles))}')
  if heldout.sample_rate != config.sample_rate:
    refuse(PROG, f'{args.heldout} is {heldout.sample_rate} Hz, the codec {config.sample_rate} Hz')
  torch.set_num_threads(args.threads)
  model = SpectroStream(config).load_official(weights).eval()
  results = {'codec': str(args.codec.resolve()), 'midi': midi_ceiling(model, args.data),
             'style': style_ceiling(model, data, heldout)}
  text = json.dumps(results, indent=1)
  print(text)
  if args.out:
    args.out.write_text(text + '\n')
  return 0


if __name__ == '__main__':
  sys.exit(main())
