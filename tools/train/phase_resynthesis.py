#!/usr/bin/env python3
"""Where does a note's pitch live at the codec's STFT? Resynthesise clips of a dataset from
their STFT (a codec preset's: default 960 points, hop 480, 50 Hz bins; peak 1920 / 960, 25 Hz)
with the magnitudes kept and the phase replaced, and score each version's chroma against the
note labels as train_codec.py scores a decoding (tools/eval/metrics.chroma_adherence,
periodic_buzz):

  source          the clip itself (the ceiling)
  random_phase    each bin's phase drawn at random in every frame
  griffin_lim     32 Griffin-Lim iterations from random phases (phases consistent with the
                  magnitudes, found from the magnitudes alone)
  kept_advance    each bin's phase advance from hop to hop kept, its starting phase random
  peak_locked     phases from the magnitudes alone, each bin turning at its nearest spectral
                  peak's frequency (the peak_phase output mode: spectrostream.peak_locked_phases)

A decoder trained on magnitude losses alone is free to draw phases like random_phase; one
that gets the advances right is kept_advance (losses.phase_advance_loss); one in the
peak_phase mode is peak_locked. A minute on a CPU.

  .venv-train/bin/python tools/train/phase_resynthesis.py --data /work/data/v1 [--config peak] [--clips 10] [--seconds 10]
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'eval'))
import metrics  # noqa: E402
from common.dataset import Shards  # noqa: E402
from mrt2_torch.losses import phase_advances  # noqa: E402
from mrt2_torch.spectrostream import peak_locked_phases  # noqa: E402
from mrt2_torch.spectrostream_config import PRESETS  # noqa: E402

GRIFFIN_LIM_ITERATIONS = 32


class Stft:
  def __init__(self, fft: int, hop: int):
    self.fft, self.hop = fft, hop
    self.window = torch.hann_window(fft).sqrt()  # analysis x synthesis = Hann: overlap-adds flat at hop fft / 2

  def __call__(self, audio):
    return torch.stft(audio, self.fft, self.hop, window=self.window, return_complex=True)

  def inverse(self, spectrum, length: int):
    return torch.istft(spectrum, self.fft, self.hop, window=self.window, length=length)


def random_phases(shape, generator):
  return torch.exp(2j * math.pi * torch.rand(shape, generator=generator))


def versions(audio, stft: Stft, generator):
  """name -> audio [channels, samples] resynthesised from audio's STFT (module docstring)."""
  spectrum, length = stft(audio), audio.shape[-1]
  magnitude = spectrum.abs()
  estimate = magnitude * random_phases(spectrum.shape, generator)
  for _ in range(GRIFFIN_LIM_ITERATIONS):
    estimate = magnitude * torch.exp(1j * stft(stft.inverse(estimate, length)).angle())
  advance = phase_advances(spectrum).angle()
  start = 2 * math.pi * torch.rand(spectrum.shape[:-1] + (1,), generator=generator)
  kept_advance = torch.cat([start, start + advance.cumsum(-1)], -1)
  bins = magnitude[:, :-1]  # [channels, bins, frames], the Nyquist bin dropped as the codec does
  locked = peak_locked_phases(bins.transpose(1, 2)[None])[0].transpose(1, 2).float()
  peak_locked = torch.cat([bins * torch.exp(1j * locked), torch.zeros_like(spectrum[:, -1:])], 1)
  return {'source': audio,
          'random_phase': stft.inverse(magnitude * random_phases(spectrum.shape, generator), length),
          'griffin_lim': stft.inverse(estimate, length),
          'kept_advance': stft.inverse(magnitude * torch.exp(1j * kept_advance), length),
          'peak_locked': stft.inverse(peak_locked, length)}


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--data', required=True, help='dataset directory (tools/train/data/build.py --out)')
  p.add_argument('--clips', type=int, default=10, help='the dataset\'s last N clips (train_codec.py holds them out)')
  p.add_argument('--seconds', type=float, default=10.0)
  p.add_argument('--seed', type=int, default=0)
  p.add_argument('--config', choices=sorted(PRESETS), default='default', help='the codec preset whose STFT to use')
  args = p.parse_args(argv)
  config = PRESETS[args.config]
  data = Shards(args.data)
  stft, generator = Stft(config.fft_size, config.hop), torch.Generator().manual_seed(args.seed)
  samples = min(data.samples_per_clip, int(args.seconds * data.sample_rate))
  scores = {}
  for clip in range(max(0, len(data) - args.clips), len(data)):
    audio = torch.from_numpy(np.asarray(data.audio(clip)[:samples], np.float32).T.copy() / 32768)
    held = metrics.labelled_pitch_classes(data[clip].notes, data.sample_rate / data.frame_samples)
    for name, version in versions(audio, stft, generator).items():
      heard = version.T.numpy()
      chroma = metrics.chroma_adherence(heard, data.sample_rate, held)
      buzz = metrics.periodic_buzz(heard, data.sample_rate, config.hop)
      scores.setdefault(name, []).append((chroma['precision'], chroma['recall'], buzz))
  print(f'{len(scores["source"])} clips x {samples / data.sample_rate:.1f} s, STFT {config.fft_size} / {config.hop}')
  print(f'{"version":<14} {"chroma precision":>17} {"recall":>7} {"hop buzz":>9}')
  for name, rows in scores.items():
    precision, recall, buzz = np.mean(rows, axis=0)
    print(f'{name:<14} {precision:17.3f} {recall:7.3f} {buzz:9.2f}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
