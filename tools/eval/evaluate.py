#!/usr/bin/env python3
"""Evaluates a model package through `continuo render`, as a user hears it (issue 6).

  tools/eval/evaluate.py --model models/default --data /work/data/v1 --out build/eval \\
      [--continuo build/continuo] [--seconds 20]

- speed: render's real-time factor (seconds of audio per wall second) on this machine;
- continuity: sample jumps at the 40 ms frame seams against those inside frames, loudness
  and spectral flatness (neither silence nor noise);
- MIDI adherence: a render steered by a MIDI file of held chords and a melody; the 12-bin
  chroma of the output against the pitch classes held (precision and recall), beside the same
  measure of the piece itself played by the dataset's synth and soundfont (what real audio of
  those notes scores);
- style adherence: a classifier trained on the dataset's ground-truth audio of each style
  names the style of renders prompted with each style's name; its accuracy on ground-truth
  clips it did not train on says what the classifier itself can tell apart.

Writes OUT/results.json and prints the table docs/models.md quotes. NumPy only.
"""

import argparse
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / 'train'))
import metrics  # noqa: E402
import style_classifier  # noqa: E402
import wav  # noqa: E402
from common import dataset  # noqa: E402
from data import clips, render as synth, smf  # noqa: E402
from data.compose import Note  # noqa: E402

RATE = 48000  # the MIDI test piece's clock (data/smf.py: one tick per sample at 48 kHz)
# Four bars of held triads (C, F, G, A minor; 3 s each) under a melody of their chord tones.
CHORDS = ((48, 52, 55), (53, 57, 60), (55, 59, 62), (57, 60, 64))
CHORD_SECONDS = 3.0
PIECE_SAMPLES = int(len(CHORDS) * CHORD_SECONDS * RATE)


def render(args, out, *extra):
  command = [args.continuo, 'render', '--model', args.model, '--seed', '1', '--out', str(out),
             '--set', 'log.level=warn', *extra]
  began = time.monotonic()
  result = subprocess.run(command, capture_output=True, text=True)
  if result.returncode != 0:
    sys.exit(f'evaluate.py: {" ".join(command)} exited {result.returncode}:\n{result.stderr}')
  return time.monotonic() - began


def continuity(args, out_dir):
  path = out_dir / 'free.wav'
  wall = render(args, path, '--seconds', str(args.seconds))
  audio, rate = wav.read(path)
  manifest = tomllib.loads((Path(args.model) / 'model.toml').read_text())
  frame_rate = manifest['audio']['frame_rate']
  # The codec's STFT hop in samples of the render's rate.
  architecture = manifest['architecture']
  hop = architecture.get('codec_hop', 480) * rate / architecture.get('codec_sample_rate', rate)
  return {'real_time_factor': args.seconds / wall, 'loudness_db': metrics.loudness_db(audio),
          'spectral_flatness': metrics.spectral_flatness(audio),
          'hop_buzz': metrics.periodic_buzz(audio, rate, hop),
          **metrics.seam_jumps(audio, round(rate / frame_rate))}


def chord_notes():
  """The MIDI test piece and what it holds at each time."""
  notes = []
  for i, chord in enumerate(CHORDS):
    start, end = int(i * CHORD_SECONDS * RATE), int((i + 1) * CHORD_SECONDS * RATE)
    notes += [Note(0, pitch, 80, start, end) for pitch in chord]
    step = (end - start) // 4
    notes += [Note(1, chord[k % 3] + 12, 90, start + k * step, start + (k + 1) * step) for k in range(4)]
  return notes


def held_pitch_classes(notes):
  def at(seconds):
    sample = seconds * RATE
    return {n.pitch % 12 for n in notes if n.start <= sample < n.end}
  return at


def chord_piece_midi():
  notes = chord_notes()
  return notes, smf.midi_bytes({0: 0, 1: 0}, {}, notes, PIECE_SAMPLES)


def chord_piece_played(data_dir):
  """The MIDI test piece played by the synth and soundfont the dataset was rendered with:
  float32 [samples, 2] at RATE."""
  notes, midi_bytes = chord_piece_midi()
  manifest = dataset.Shards(data_dir).manifest
  return synth.render(midi_bytes, manifest['soundfont']['path'], 0, PIECE_SAMPLES, clips.RENDER_GAIN,
                      manifest.get('synth', 'fluidsynth'))


def midi_adherence(args, out_dir):
  notes, midi_bytes = chord_piece_midi()
  midi = out_dir / 'chords.mid'
  midi.write_bytes(midi_bytes)
  path = out_dir / 'chords.wav'
  render(args, path, '--seconds', str(PIECE_SAMPLES / RATE), '--midi', str(midi))
  audio, rate = wav.read(path)
  held = held_pitch_classes(notes)
  return {**metrics.chroma_adherence(audio, rate, held),
          'ground_truth': metrics.chroma_adherence(chord_piece_played(args.data), RATE, held)}


def clip_seconds(data):
  return min(10.0, data.samples_per_clip / data.sample_rate)


def clip_audio(data, index):
  """The first clip_seconds of a clip: float32 [samples, 2]."""
  return data[index].audio[:int(clip_seconds(data) * data.sample_rate)].astype(np.float32) / 32768.0


def ground_truth_features(data):
  """(feature rows, style labels) of the first clip_seconds of each clip."""
  rows = [style_classifier.features(clip_audio(data, i), data.sample_rate) for i in range(len(data))]
  return rows, [data[i].style for i in range(len(data))]


def style_adherence(args, out_dir):
  data = dataset.Shards(args.data)
  rows, labels = ground_truth_features(data)
  classifier = style_classifier.StyleClassifier.fit(rows, labels, data.styles)
  hits, outcomes = 0, {}
  for style_index, style in enumerate(data.styles):
    path = out_dir / f'style-{style.replace(" ", "_")}.wav'
    render(args, path, '--seconds', str(clip_seconds(data)), '--prompt', style)
    audio, rate = wav.read(path)
    guess = int(classifier.predict([style_classifier.features(audio, rate)])[0])
    outcomes[style] = data.styles[guess]
    hits += guess == style_index
  return {'accuracy': hits / len(data.styles), 'heard_as': outcomes,
          'classifier_heldout_accuracy': heldout_accuracy(rows, labels, data.styles)}


def heldout_accuracy(rows, labels, styles, folds=5):
  """The classifier's accuracy on ground-truth clips it did not train on (k-fold over clips)."""
  rows, labels = np.asarray(rows), np.asarray(labels)
  fold = np.arange(len(rows)) % folds
  hits = 0
  for k in range(folds):
    classifier = style_classifier.StyleClassifier.fit(rows[fold != k], labels[fold != k], styles)
    hits += int(np.sum(classifier.predict(rows[fold == k]) == labels[fold == k]))
  return hits / len(rows)


def main(argv):
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--model', required=True, help='model package directory')
  p.add_argument('--data', required=True, help='dataset (tools/train/data) for the style classifier')
  p.add_argument('--out', required=True, type=Path, help='directory for the renders and results.json')
  p.add_argument('--continuo', default=str(HERE.parents[1] / 'build' / 'continuo'))
  p.add_argument('--seconds', type=float, default=20.0, help='length of the free render')
  args = p.parse_args(argv)
  for needed, what in ((Path(args.model) / 'model.toml', 'a model package'), (Path(args.continuo), 'continuo')):
    if not needed.exists():
      sys.exit(f'evaluate.py: {needed}: not found ({what})')
  args.out.mkdir(parents=True, exist_ok=True)
  results = {}
  for name, measure in (('continuity', continuity), ('midi', midi_adherence), ('style', style_adherence)):
    print(f'evaluate: {name} ...', file=sys.stderr, flush=True)
    results[name] = measure(args, args.out)
    print(json.dumps(results[name], indent=1), file=sys.stderr, flush=True)
  (args.out / 'results.json').write_text(json.dumps(results, indent=1))
  c, m, s = results['continuity'], results['midi'], results['style']
  print('| measure | value | target |\n|---|---|---|')
  print(f'| render real-time factor | {c["real_time_factor"]:.1f}x | >= 3x on 2 cores |')
  print(f'| loudness | {c["loudness_db"]:.1f} dBFS | not silence (> -50) |')
  print(f'| spectral flatness | {c["spectral_flatness"]:.3f} | not noise (< 0.3) |')
  print(f'| seams above the interior p99 jump | {c["seams_above_interior_p99"]:.3f} | ~0.01 (no clicks) |')
  print(f'| buzz at the codec hop rate (metrics.periodic_buzz) | {c["hop_buzz"]:.0f} | ~1 (data: 0.3) |')
  truth = m['ground_truth']
  print(f'| MIDI chroma precision / recall | {m["precision"]:.2f} / {m["recall"]:.2f} (the piece played by '
        f'the synth: {truth["precision"]:.2f} / {truth["recall"]:.2f}) | >= 0.8 each |')
  print(f'| style named from a prompt | {s["accuracy"]:.0%} (the classifier on held-out ground truth: '
        f'{s["classifier_heldout_accuracy"]:.0%}) | >= 80 % |')


if __name__ == '__main__':
  main(sys.argv[1:])
