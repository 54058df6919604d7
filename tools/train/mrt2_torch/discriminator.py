"""Adversarial loss for training the SpectroStream codec (docs/training-codec.md): a
multi-resolution complex-STFT discriminator (EnCodec's MS-STFTD, DAC's MRD), hinge losses and
feature matching. Training-only: nothing here is exported or run by continuo.

Why: the codec decodes STFT frames and overlap-adds them. Reconstruction losses on magnitudes
let neighbouring frames disagree in phase, and frames that do not join modulate the sound at
the hop rate (the 100 Hz buzz of docs/models.md) and smear every harmonic. A discriminator that
sees the complex spectrum (real and imaginary parts) at several resolutions hears that at once.

  discriminator = StftDiscriminator(sample_rate)
  d_loss = discriminator_hinge_loss(discriminator(real), discriminator(fake.detach()))
  g_adv, g_features = generator_losses(discriminator(real), discriminator(fake))  # train_codec.Adversary.judge

Audio is [B, C, S]; channels are folded into the batch. Each resolution returns its feature
maps, the last being the [B*C, 1, T, F] logits.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

FFT_SIZES_AT_48K = (2048, 1024, 512)  # hop a quarter of each
CHANNELS = 16  # small enough that the discriminator costs about what the codec does on 2 cores
LEAK = 0.2


class _ResolutionDiscriminator(nn.Module):
  """2D convolutions over one complex STFT (re, im as 2 input channels; time x frequency),
  striding over frequency only, as in EnCodec's MS-STFTD."""

  def __init__(self, n_fft: int, hop: int):
    super().__init__()
    self.n_fft, self.hop = n_fft, hop
    self.register_buffer('window', torch.hann_window(n_fft), persistent=False)
    conv = lambda c_in, kernel, stride, dilation=(1, 1): nn.utils.parametrizations.weight_norm(
        nn.Conv2d(c_in, CHANNELS, kernel, stride, padding=((kernel[0] - 1) * dilation[0] // 2, kernel[1] // 2),
                  dilation=dilation))
    self.layers = nn.ModuleList([
        conv(2, (3, 9), (1, 1)),
        conv(CHANNELS, (3, 9), (1, 2)),
        conv(CHANNELS, (3, 9), (1, 2), (2, 1)),
        conv(CHANNELS, (3, 9), (1, 2), (4, 1)),
        conv(CHANNELS, (3, 3), (1, 1)),
    ])
    self.logits = nn.utils.parametrizations.weight_norm(nn.Conv2d(CHANNELS, 1, (3, 3), padding=(1, 1)))

  def forward(self, audio: torch.Tensor) -> list[torch.Tensor]:
    spec = torch.stft(audio.reshape(-1, audio.shape[-1]), self.n_fft, self.hop, window=self.window,
                      center=True, return_complex=True)
    x = torch.view_as_real(spec).permute(0, 3, 2, 1)  # [N, 2 (re, im), T, F]
    features = []
    for layer in self.layers:
      x = F.leaky_relu(layer(x), LEAK)
      features.append(x)
    features.append(self.logits(x))
    return features


def fft_sizes(sample_rate: int) -> list[int]:
  """FFT_SIZES_AT_48K scaled to the rate (the nearest power of two): the same durations, so a
  small test codec at 3.2 kHz gets a discriminator of its own scale."""
  return [2 ** round(math.log2(n * sample_rate / 48000)) for n in FFT_SIZES_AT_48K]


class StftDiscriminator(nn.Module):
  def __init__(self, sample_rate: int):
    super().__init__()
    self.resolutions = nn.ModuleList(_ResolutionDiscriminator(n, n // 4) for n in fft_sizes(sample_rate))

  def forward(self, audio: torch.Tensor) -> list[list[torch.Tensor]]:
    return [each(audio) for each in self.resolutions]


def discriminator_hinge_loss(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
  """mean over resolutions of E[relu(1 - D(x))] + E[relu(1 + D(x̂))]."""
  total = sum(F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake))
  return total / len(real)


def generator_losses(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
  """(hinge E[relu(1 - D(x̂))], feature matching: L1 between the real and decoded audio's feature
  maps, each relative to the real map's mean magnitude), both averaged over resolutions."""
  adversarial = sum(F.relu(1 - f[-1]).mean() for f in fake) / len(fake)
  matching = [F.l1_loss(fm, rm.detach()) / rm.detach().abs().mean().clamp_min(1e-7)
              for r, f in zip(real, fake) for rm, fm in zip(r[:-1], f[:-1])]
  return adversarial, sum(matching) / len(matching)
