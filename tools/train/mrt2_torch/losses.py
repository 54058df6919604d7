"""Reconstruction losses for training the SpectroStream codec (docs/training-codec.md).

  multi_resolution_stft_loss(x_hat, x)  spectral convergence + log-magnitude L1 over several
                                        STFT resolutions (Parallel WaveGAN, Yamamoto et al.)
  multi_scale_mel_loss(x_hat, x, sr)    L1 of log-mel spectrograms at several window sizes
                                        (the SoundStream / DAC "mel" reconstruction term)
  spectral_magnitude_loss(m_hat, m)     the same on two magnitude spectrograms given as such
                                        (a decoder's own output against the source's STFT)
  phase_advance_loss(x_hat, x, fft, hop) how far each bin's phase advance from one hop to the
                                        next (its instantaneous frequency) is from the target's

Audio is [B, C, S] (any channel count; channels are folded into the batch). Pure torch; the
mel filterbank (HTK mel scale, triangles normalised to unit area like librosa's 'slaney'
norm) is built here and cached per (sr, n_fft, n_mels, device).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

STFT_RESOLUTIONS = ((2048, 512), (1024, 256), (512, 128), (256, 64), (128, 32))  # (fft, hop) at 48 kHz
MEL_SCALES = ((2048, 512, 128), (1024, 256, 80), (512, 128, 64), (256, 64, 32))  # (fft, hop, mels)
# Bins of 5.9 and 11.7 Hz: a semitone apart from ~100 Hz up. The resolutions above (>= 23 Hz
# bins) and the mel scales let a codec smear harmonics across neighbouring pitches and still
# score well, and then its codes do not say which notes sound (docs/models.md).
PITCH_RESOLUTIONS = ((8192, 1024), (4096, 512))


def _spectrum(x, n_fft: int, hop: int):
  window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
  return torch.stft(x.reshape(-1, x.shape[-1]), n_fft, hop, window=window, center=True, return_complex=True)


def _magnitude(x, n_fft: int, hop: int, eps: float = 1e-7):
  return _spectrum(x, n_fft, hop).abs().clamp_min(eps)


def spectral_magnitude_loss(m_hat, m):
  """|‖X‖ - ‖X̂‖|_F / ‖X‖_F + mean |log ‖X‖ - log ‖X̂‖| of two magnitude spectrograms (> 0)."""
  sc = torch.linalg.norm(m - m_hat) / torch.linalg.norm(m).clamp_min(1e-7)
  return sc + F.l1_loss(m_hat.log(), m.log())


def multi_resolution_stft_loss(x_hat, x, resolutions=STFT_RESOLUTIONS):
  """spectral_magnitude_loss averaged over STFT resolutions."""
  total = x.new_zeros(())
  for n_fft, hop in resolutions:
    total = total + spectral_magnitude_loss(_magnitude(x_hat, n_fft, hop), _magnitude(x, n_fft, hop))
  return total / len(resolutions)


def phase_advances(spectrum):
  """[..., bins, frames] complex -> [..., bins, frames - 1]: each bin's frame times the previous
  one's conjugate, whose angle is the phase it advanced by over the hop."""
  return spectrum[..., 1:] * spectrum[..., :-1].conj()


def phase_advance_loss(x_hat, x, n_fft: int, hop: int, eps: float = 1e-7):
  """Σ w |u(X̂) - u(X)|² / Σ w over bins and hops, where u(X) = e^{i Δφ}, Δφ the phase a bin
  advances from one hop to the next, and w = √(|X_t| |X_t-1|) of the target. In [0, 4].

  At the codec's own STFT (960 points, 50 Hz bins) a note's pitch lies in that advance
  (2π f hop / sr), not in the magnitudes: the data's audio with its magnitudes kept and each
  frame's phase drawn at random scores chance on chroma, with its phase advances kept and only
  the starting phase random it scores as the source (docs/training-codec.md). Magnitude losses
  let a decoder draw those phases freely; this one asks for the advances and leaves each bin's
  absolute phase, which the ear does not hear, free."""
  def unit(z):
    return z / z.abs().clamp_min(eps)

  target = phase_advances(_spectrum(x, n_fft, hop))
  predicted = phase_advances(_spectrum(x_hat, n_fft, hop))
  weight = target.abs().sqrt()
  distance = (unit(predicted) - unit(target)).abs() ** 2
  return (weight * distance).sum() / weight.sum().clamp_min(eps)


@functools.lru_cache(maxsize=32)
def _mel_filters(sample_rate: int, n_fft: int, n_mels: int, device: str) -> torch.Tensor:
  """[n_mels, n_fft // 2 + 1] triangular filters on the HTK mel scale, area-normalised."""
  def mel(f):
    return 2595.0 * math.log10(1.0 + f / 700.0)

  def hz(m):
    return 700.0 * (10 ** (m / 2595.0) - 1.0)

  freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
  edges = torch.tensor([hz(m) for m in torch.linspace(mel(0.0), mel(sample_rate / 2), n_mels + 2).tolist()],
                       dtype=torch.float64)
  lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
  up = (freqs[None] - lower) / (centre - lower)
  down = (upper - freqs[None]) / (upper - centre)
  filters = torch.clamp(torch.minimum(up, down), min=0.0) * (2.0 / (upper - lower))
  return filters.to(torch.float32).to(device)


def multi_scale_mel_loss(x_hat, x, sample_rate: int, scales=MEL_SCALES, eps: float = 1e-5):
  """mean over scales of L1(log(mel(X̂) + eps), log(mel(X) + eps))."""
  total = x.new_zeros(())
  for n_fft, hop, n_mels in scales:
    fb = _mel_filters(sample_rate, n_fft, n_mels, str(x.device)).to(x.dtype)
    mel_hat = fb @ _magnitude(x_hat, n_fft, hop)
    mel = fb @ _magnitude(x, n_fft, hop)
    total = total + F.l1_loss((mel_hat + eps).log(), (mel + eps).log())
  return total / len(scales)


def reconstruction_loss(x_hat, x, sample_rate: int, *, stft_weight: float = 1.0, mel_weight: float = 1.0,
                        l1_weight: float = 0.1):
  """The planned default: multi-resolution STFT + multi-scale mel + a small waveform L1.
  x is cropped to x_hat's length (SpectroStream.forward returns lookahead frames fewer)."""
  x = x[..., :x_hat.shape[-1]]
  return (stft_weight * multi_resolution_stft_loss(x_hat, x)
          + mel_weight * multi_scale_mel_loss(x_hat, x, sample_rate)
          + l1_weight * F.l1_loss(x_hat, x))
