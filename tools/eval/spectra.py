"""Spectral front ends shared by the metrics: STFT magnitudes, mel filterbanks, chroma."""

import numpy as np


def mono(audio):
  audio = np.asarray(audio, dtype=np.float64)
  return audio.mean(axis=1) if audio.ndim == 2 else audio


def stft_magnitude(signal, fft_size, hop):
  """|STFT| [frames, fft_size/2+1] of a mono signal, Hann window, no padding."""
  if len(signal) < fft_size:
    signal = np.pad(signal, (0, fft_size - len(signal)))
  count = 1 + (len(signal) - fft_size) // hop
  index = np.arange(fft_size)[None, :] + hop * np.arange(count)[:, None]
  window = np.hanning(fft_size + 1)[:-1]
  return np.abs(np.fft.rfft(signal[index] * window, axis=1))


def mel_filterbank(rate, fft_size, bands, low_hz=20.0, high_hz=None):
  """Triangular HTK-mel filters [bands, fft_size/2+1]."""
  high_hz = high_hz or rate / 2
  to_mel = lambda hz: 2595.0 * np.log10(1.0 + hz / 700.0)
  to_hz = lambda mel: 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
  edges = to_hz(np.linspace(to_mel(low_hz), to_mel(high_hz), bands + 2))
  bins = np.fft.rfftfreq(fft_size, 1.0 / rate)
  rising = (bins[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
  falling = (edges[2:, None] - bins[None, :]) / (edges[2:, None] - edges[1:-1, None])
  return np.maximum(0.0, np.minimum(rising, falling))


def chroma(signal, rate, fft_size=8192, hop=2048, low_hz=55.0, high_hz=2000.0):
  """12-bin chroma [frames, 12] (C = 0): root of the spectral power per pitch class.

  A long window resolves semitones down to A1; the band stops at 2 kHz so upper
  harmonics (which land on other pitch classes) weigh little. The root keeps a chord's
  weaker tones within a factor of the strongest, as they are to the ear.
  """
  power = stft_magnitude(signal, fft_size, hop) ** 2
  hz = np.fft.rfftfreq(fft_size, 1.0 / rate)
  in_band = (hz >= low_hz) & (hz <= high_hz)
  pitch_class = np.round(69 + 12 * np.log2(np.where(in_band, hz, 440.0) / 440.0)).astype(int) % 12
  result = np.zeros((power.shape[0], 12))
  for pc in range(12):
    result[:, pc] = power[:, in_band & (pitch_class == pc)].sum(axis=1)
  return np.sqrt(result)
