"""SpectroStream (the Magenta RealTime 2 audio codec) in PyTorch, trainable, in the official
raw-checkpoint layout.

  audio [B, 2, S] -> Stft -> Encoder -> embeddings [B, N, features] -> ResidualVQ -> codes [B, N, L]
  codes -> ResidualVQ.decode -> Decoder -> spectrogram -> InverseStft -> audio

N = S / frame_samples token frames (40 ms at 48 kHz: 1920 samples). Everything is the
whole-sequence ("layer-wise") form of the official streaming model
(magenta_rt/jax/spectrostream.py, sequence_layers): convolutions are causal in time
(zero history at the start, as a fresh streaming state), so a sequence computed here equals
continuo's frame-by-frame output (model/spectrostream*.cpp):

- STFT frames are reverse-causal: frame j = samples [j*hop, j*hop + fft), zero padded at the
  end. Encoder embedding t depends on the audio up to fft - hop samples into frame t + 1;
  streaming, continuo's encoder returns it one call later.
- The decoder has `lookahead` token frames of lookahead (sl.Lookahead): its output for frame t
  uses codes up to t + lookahead. `decode()` returns the official layer-wise audio, which is
  `lookahead` frames shorter than the codes; `decode_streaming()` returns what continuo's
  decode() emits call by call (the first `lookahead` frames silent, then the same audio).

Layouts: activations [B, channels, time, freq] (torch NCHW, the official NHWC transposed),
audio [B, channels, samples]. Parameters are held in torch layouts; `to_official()` /
`load_official()` convert to and from the official names and [kt, kf, cin, cout] kernels.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

from .spectrostream_config import (DEFAULT, OFFICIAL, PRESETS, TINY, SpectroStreamConfig,  # noqa: F401
                                   conv_transpose_same_pad, resample_kernel)


# ---- official parameter IO helpers ---------------------------------------------------------

def _np(t: torch.Tensor):
  return t.detach().to('cpu', torch.float32).contiguous().numpy().copy()


def _take(params: dict, name: str, shape: tuple[int, ...]) -> torch.Tensor:
  if name not in params:
    raise KeyError(f'missing official parameter {name}')
  value = torch.tensor(np.asarray(params[name], dtype=np.float32))
  if tuple(value.shape) != tuple(shape):
    raise ValueError(f'{name}: expected shape {list(shape)}, got {list(value.shape)}')
  return value


class _Official:
  """Mixin: a module with parameters under one official path (`.../conv/{kernel,bias}`)."""

  def official(self) -> dict[str, torch.Tensor]:  # leaf -> tensor in the official layout
    raise NotImplementedError

  def load_official_leaves(self, leaves: dict[str, torch.Tensor]) -> None:
    raise NotImplementedError

  def official_shapes(self) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in self.official().items()}


# ---- layers --------------------------------------------------------------------------------

class Conv2d(nn.Module, _Official):
  """sl.Conv2D as spectrostream.py's conv2d() configures it: time "semicausal" (left kt - st
  frames of history, causal at stride 1), frequency zero-padded max(kf - sf, 0) with the
  smaller half on the left; cross-correlation. Input [B, cin, T, F], T divisible by st."""

  def __init__(self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1)):
    super().__init__()
    self.kernel, self.stride = tuple(kernel), tuple(stride)
    kt, kf = self.kernel
    self.weight = nn.Parameter(torch.empty(cout, cin, kt, kf))
    self.bias = nn.Parameter(torch.zeros(cout))
    nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # torch's Conv2d default
    pad_f = max(kf - self.stride[1], 0)
    self.pad = (pad_f // 2, pad_f - pad_f // 2, max(kt - self.stride[0], 0), 0)  # F.pad order: f, t

  def forward(self, x):
    return F.conv2d(F.pad(x, self.pad), self.weight, self.bias, stride=self.stride)

  def official(self):
    return {'kernel': self.weight.permute(2, 3, 1, 0), 'bias': self.bias}

  def load_official_leaves(self, leaves):
    self.weight.data.copy_(leaves['kernel'].permute(3, 2, 0, 1))
    self.bias.data.copy_(leaves['bias'])

  def official_shapes(self):
    cout, cin, kt, kf = self.weight.shape
    return {'kernel': (kt, kf, cin, cout), 'bias': (cout,)}


class Dense(Conv2d):
  """A 1x1 conv over [B, T, cin] (the official conv1x1 on [t, 1, c] after ExpandDims)."""

  def __init__(self, cin: int, cout: int):
    super().__init__(cin, cout, (1, 1))
    nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

  def forward(self, x):
    return F.linear(x, self.weight[:, :, 0, 0], self.bias)


class ConvTranspose2d(nn.Module, _Official):
  """sl.Conv2DTranspose, time_padding "causal", spatial "same": input (tau, i) adds
  x * W[a, b] to output (st*tau + kt-1-a, sf*i + pad_left - b) (the official lhs-dilated conv,
  kernel not flipped, kernels/conv_transpose2d). T frames in, T*st out; the kt - st frames
  that reach past the end are dropped (streaming: the still-open overlap)."""

  def __init__(self, cin: int, cout: int, stride: tuple[int, int]):
    super().__init__()
    self.stride = tuple(stride)
    kt, kf = resample_kernel(stride[0]), resample_kernel(stride[1])
    self.kernel = (kt, kf)
    # torch conv_transpose2d layout [cin, cout, kt, kf], holding the official kernel flipped
    # in both axes: torch adds x * w[a', b'] at (st*tau + a', sf*i + b').
    self.weight = nn.Parameter(torch.empty(cin, cout, kt, kf))
    self.bias = nn.Parameter(torch.zeros(cout))
    nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
    self.crop_f = kf - 1 - conv_transpose_same_pad(kf, stride[1])

  def forward(self, x):
    t, f = x.shape[-2:]
    y = F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride)
    return y[..., :t * self.stride[0], self.crop_f:self.crop_f + f * self.stride[1]]

  def official(self):
    return {'kernel': self.weight.flip(2, 3).permute(2, 3, 0, 1), 'bias': self.bias}

  def load_official_leaves(self, leaves):
    self.weight.data.copy_(leaves['kernel'].permute(2, 3, 0, 1).flip(2, 3))
    self.bias.data.copy_(leaves['bias'])

  def official_shapes(self):
    cin, cout, kt, kf = self.weight.shape
    return {'kernel': (kt, kf, cin, cout), 'bias': (cout,)}


def elu(x):
  return F.elu(x)


def to_groups(x, groups: int):
  """sl.ParallelChannels: [B, G*C, T, F] -> [B*G, C, T, F], group g = channels [g*C, (g+1)*C)."""
  b, c, t, f = x.shape
  return x.reshape(b * groups, c // groups, t, f)


def from_groups(x, groups: int):
  """The CONCAT combination: [B*G, C, T, F] -> [B, G*C, T, F], group 0's channels first."""
  bg, c, t, f = x.shape
  return x.reshape(bg // groups, groups * c, t, f)


# ---- STFT front and back end ----------------------------------------------------------------

def hann_window(n: int, device=None) -> torch.Tensor:
  """SL/signal.py hann_window (periodic), computed in float64 like continuo's kernels."""
  i = torch.arange(n, dtype=torch.float64, device=device)
  return (0.5 - 0.5 * torch.cos(2 * math.pi * i / n)).to(torch.float32)


def inverse_stft_window(fft_size: int, hop: int, device=None) -> torch.Tensor:
  """signal.inverse_stft_window_fn(hop, hann_window)(fft_size) (Griffin & Lim eq. 7)."""
  i = torch.arange(fft_size, dtype=torch.float64, device=device)
  w = 0.5 - 0.5 * torch.cos(2 * math.pi * i / fft_size)
  overlaps = -(-fft_size // hop)
  sq = F.pad(w * w, (0, overlaps * hop - fft_size)).reshape(overlaps, hop).sum(0)
  denom = sq.repeat(overlaps)[:fft_size]
  return torch.where(denom == 0, torch.zeros_like(w), w / denom).to(torch.float32)


class Stft(nn.Module):
  """spectrostream_stft_config: reverse-causal frames, periodic Hann, rfft, Nyquist bin dropped.
  audio [B, C, S] (S divisible by hop) -> [B, 2C, S/hop, fft/2], channels (re, im) per audio
  channel."""

  def __init__(self, fft_size: int, hop: int):
    super().__init__()
    self.fft_size, self.hop = fft_size, hop
    self.register_buffer('window', hann_window(fft_size), persistent=False)

  def forward(self, audio):
    b, c, s = audio.shape
    x = F.pad(audio, (0, self.fft_size - self.hop)).reshape(b * c, -1)
    spec = torch.stft(x, self.fft_size, self.hop, window=self.window, center=False,
                      onesided=True, return_complex=True)  # [B*C, bins+1, frames]
    spec = spec[:, :-1].transpose(1, 2)  # [B*C, frames, bins]
    out = torch.stack([spec.real, spec.imag], dim=1)  # [B*C, 2, frames, bins]
    return out.reshape(b, 2 * c, s // self.hop, self.fft_size // 2)


class InverseStft(nn.Module):
  """spectrostream_inverse_stft_config: zero Nyquist bin appended, irfft (DC imaginary part
  ignored), synthesis window, causal overlap-add: [B, 2C, frames, bins] -> [B, C, frames*hop].
  Requires hop to divide fft_size (every official config: hop = fft/2)."""

  def __init__(self, fft_size: int, hop: int):
    super().__init__()
    if fft_size % hop:
      raise ValueError(f'hop {hop} must divide fft_size {fft_size}')
    self.fft_size, self.hop = fft_size, hop
    self.register_buffer('window', inverse_stft_window(fft_size, hop), persistent=False)

  def forward(self, spec):
    b, c2, n, bins = spec.shape
    x = spec.reshape(b, c2 // 2, 2, n, bins)
    z = torch.complex(x[:, :, 0], x[:, :, 1])
    z = F.pad(z, (0, 1))  # Nyquist bin = 0
    frames = torch.fft.irfft(z, n=self.fft_size, dim=-1) * self.window  # [B, C, n, fft]
    r = self.fft_size // self.hop
    parts = frames.reshape(b, c2 // 2, n, r, self.hop)
    out = parts[:, :, :, 0]
    for k in range(1, r):  # part k of frame j lands in hop block j + k
      out = out + F.pad(parts[:, :, :, k], (0, 0, k, 0))[:, :, :n]
    return out.reshape(b, c2 // 2, n * self.hop)


def accumulate_phase(spec, eps: float = 1e-6):
  """The `phase_accumulate` output mode, [B, 2C, n, bins] -> [B, 2C, n, bins]: each (re, im)
  pair z of the decoder gives the magnitude |z| and how far the bin's phase turns from the
  previous frame, angle(z); a running phase from 0 before the first frame turns them into the
  spectrum: φ_t = Σ_{s<=t} angle z_s, out_t = |z_t| e^{iφ_t}.

  Why: a held note's phase must turn by 2π f hop / sr every STFT frame. Convolutions fed the
  same codes frame after frame emit the same output, so a decoder whose output is the
  spectrum itself must find each frame's phase in the codes; here the same output is a steady
  turn, which is what the note needs. The turn is the whole advance, not the deviation from the
  bin's centre frequency (2π k hop / fft_size = π k at hop fft/2): every bin a partial reaches
  turns by the same 2π f hop / sr, which a convolution draws smoothly across the bins, where
  the deviations flip by π from bin to bin (a first run with them learnt no faster than the
  plain decoder).
  The running phase is float64, as continuo's kernel keeps it. The value is exact; the
  gradient is not the sum's: a frame's advance gets it from its own frame only, with atan2's
  1/|z| softened below |z| ~ sqrt(eps). Through the sum it would also reach every later frame,
  which it turns all together: no loss hears that (the absolute phase is inaudible), but it
  multiplies the gradient by the frames that follow (8x the plain decoder's norm in a first
  run, starving the magnitudes under the gradient clip)."""
  b, c2, n, bins = spec.shape
  x = spec.reshape(b, c2 // 2, 2, n, bins)
  re, im = x[:, :, 0], x[:, :, 1]
  power = re * re + im * im
  magnitude = torch.sqrt(power + 1e-20)
  phase = torch.cumsum(torch.atan2(im, re).detach().double(), dim=2)
  if torch.is_grad_enabled():  # adds exactly 0; carries the gradient of this frame's advance
    phase = phase + ((re.detach() * im - im.detach() * re) / (power.detach() + eps)).double()
  out = torch.stack([magnitude * torch.cos(phase).to(spec.dtype), magnitude * torch.sin(phase).to(spec.dtype)], 2)
  return out.reshape(b, c2, n, bins)


PEAK_FLOOR = 1e-3  # peaks below this share of the frame's strongest bin (-60 dB) are not partials


def spectrum_magnitudes(spec):
  """[B, 2C, n, bins] (re, im) pairs -> [B, C, n, bins] magnitudes."""
  b, c2, n, bins = spec.shape
  x = spec.reshape(b, c2 // 2, 2, n, bins)
  re, im = x[:, :, 0], x[:, :, 1]
  return torch.sqrt(re * re + im * im + 1e-20)


def peak_phase(spec):
  """The `peak_phase` output mode, [B, 2C, n, bins] -> [B, 2C, n, bins]: each (re, im) pair z
  of the decoder gives the magnitude |z| only; the phases come from the magnitudes
  (peak_locked_phases). The gradient reaches the magnitudes; the phases are constants to it."""
  b, c2, n, bins = spec.shape
  magnitude = spectrum_magnitudes(spec)
  phase = peak_locked_phases(magnitude.detach())
  out = torch.stack([magnitude * torch.cos(phase).to(spec.dtype), magnitude * torch.sin(phase).to(spec.dtype)], 2)
  return out.reshape(b, c2, n, bins)


@torch.no_grad()
def peak_locked_phases(magnitude):
  """magnitude [B, C, n, bins] -> phases [B, C, n, bins] (float64): a phase vocoder with
  identity phase locking (Laroche & Dolson) driven by the magnitudes alone.

  Per frame, a peak is a bin above its left neighbour (or equal), above its right one and above
  PEAK_FLOOR of the frame's strongest bin (the end bins never are); its frequency in bins, κ, is
  the vertex of the parabola through the three log magnitudes. Every bin belongs to its nearest
  peak (the left one on a tie; its own centre when the frame has none). A partial at κ bins
  turns by 2π κ hop / fft_size = π κ per hop (hop = fft_size / 2), so each region's locked
  phase ψ is the previous frame's ψ at its peak bin plus π κ, and a bin's phase is ψ - π k: the
  inverse STFT's frames start at the window's edge, where a sinusoid's bins alternate in sign.
  ψ starts at 0 before the first frame and is kept in [0, 2π) (continuo's kernel does the
  same, in double)."""
  _, _, n, bins = magnitude.shape
  k = torch.arange(bins, device=magnitude.device)
  m = magnitude
  mid, left, right = m[..., 1:-1], m[..., :-2], m[..., 2:]
  peak = torch.zeros_like(m, dtype=torch.bool)
  peak[..., 1:-1] = (mid >= left) & (mid > right) & (mid > PEAK_FLOOR * m.amax(-1, keepdim=True))
  log = m.double().log()
  vertex = 0.5 * (log[..., :-2] - log[..., 2:]) / (log[..., :-2] - 2 * log[..., 1:-1] + log[..., 2:])
  offset = torch.zeros_like(log)
  offset[..., 1:-1] = torch.where(peak[..., 1:-1], vertex.clamp(-0.5, 0.5), torch.zeros_like(vertex))
  kappa = k.double() + offset
  before = torch.where(peak, k, torch.full_like(k, -1)).cummax(-1).values
  after = torch.where(peak, k, torch.full_like(k, bins)).flip(-1).cummin(-1).values.flip(-1)
  nearest = torch.where(before < 0, after, torch.where((after >= bins) | (k - before <= after - k), before, after))
  nearest = torch.where(nearest >= bins, k.expand_as(nearest), nearest)
  lock = math.pi * k.double()
  psi = torch.zeros(m.shape[:2] + (bins,), dtype=torch.float64, device=m.device)
  phases = torch.empty(m.shape, dtype=torch.float64, device=m.device)
  for t in range(n):
    region = nearest[:, :, t]
    psi = psi.gather(-1, region) + math.pi * kappa[:, :, t].gather(-1, region)
    psi = psi - 2 * math.pi * torch.floor(psi / (2 * math.pi))
    phases[:, :, t] = psi - lock
  return phases


# ---- residual units ---------------------------------------------------------------------

class EncoderUnit(nn.Module):
  """conv2d_residual_unit(transposed=False): y = down(ELU(conv3x3(ELU(x)))) + skip(AvgPool(x)).
  With stride (1, 1) (the bottleneck) `down` is the 3x3 conv2d_3x3_a and there is no pooling."""

  def __init__(self, cin: int, cout: int, stride: tuple[int, int], skip: bool):
    super().__init__()
    self.stride = tuple(stride)
    self.conv = Conv2d(cin, cin, (3, 3))
    self.down = Conv2d(cin, cout, (resample_kernel(stride[0]), resample_kernel(stride[1])), self.stride)
    self.skip_conv = Conv2d(cin, cout, (1, 1)) if skip else None

  def forward(self, x):
    y = self.down(elu(self.conv(elu(x))))
    s = F.avg_pool2d(x, self.stride) if self.stride != (1, 1) else x
    if self.skip_conv is not None:
      s = self.skip_conv(s)
    return y + s

  def official_modules(self, prefix: str) -> dict[str, _Official]:
    down = 'conv2d_%dx%d_a' % self.down.kernel
    out = {f'{prefix}/conv2d_3x3/conv': self.conv, f'{prefix}/{down}/conv': self.down}
    if self.skip_conv is not None:
      out[f'{prefix}/shortcut_layer/conv1x1/conv'] = self.skip_conv
    return out


class DecoderUnit(nn.Module):
  """conv2d_residual_unit(transposed=True): y = conv3x3(ELU(up(ELU(x)))) + Upsample(skip(x))."""

  def __init__(self, cin: int, cout: int, stride: tuple[int, int], skip: bool):
    super().__init__()
    self.stride = tuple(stride)
    self.up = ConvTranspose2d(cin, cout, self.stride)
    self.conv = Conv2d(cout, cout, (3, 3))
    self.skip_conv = Conv2d(cin, cout, (1, 1)) if skip else None

  def forward(self, x):
    y = self.conv(elu(self.up(elu(x))))
    s = self.skip_conv(x) if self.skip_conv is not None else x
    s = s.repeat_interleave(self.stride[0], dim=2).repeat_interleave(self.stride[1], dim=3)
    return y + s

  def official_modules(self, prefix: str) -> dict[str, _Official]:
    up = 'conv2dtranspose_%dx%d' % self.up.kernel
    out = {f'{prefix}/{up}/conv': self.up, f'{prefix}/conv2d_3x3/conv': self.conv}
    if self.skip_conv is not None:
      out[f'{prefix}/shortcut_layer/conv1x1/conv'] = self.skip_conv
    return out


# ---- encoder / decoder ----------------------------------------------------------------------

class Encoder(nn.Module):
  """spectrostream_encoder_config: STFT [B, 4, T*N, bins] -> embeddings [B, N, features]."""

  def __init__(self, config: SpectroStreamConfig):
    super().__init__()
    c = config
    self.config = c
    k = c.encoder_base_kernel
    self.input = Conv2d(c.stft_channels // c.splits, c.encoder_base_channels, (k, k))
    plan = c._encoder_plan()
    self.blocks = nn.ModuleList(EncoderUnit(b.cin, b.cout, (b.time_stride, b.freq_stride), b.skip)
                                for b in plan[:-1])
    self.merge = [b.merge_before for b in plan]
    b = plan[-1]
    self.bottleneck = EncoderUnit(b.cin, b.cout, (1, 1), b.skip)
    flat = c.input_bins * b.cout
    self.proj = Dense(flat, c.features)
    self.b1 = Dense(flat, flat)
    self.b2 = Dense(flat, c.features)

  def forward(self, spec):
    g = self.config.splits
    x = self.input(to_groups(spec, g))
    for i, block in enumerate(list(self.blocks) + [self.bottleneck]):
      if self.merge[i]:
        x = from_groups(x, g)
      x = block(x)
    b, ch, n, f = x.shape
    x = x.permute(0, 2, 3, 1).reshape(b, n, f * ch)  # Flatten: [t, bins, C] -> bins*C
    return self.proj(x) + self.b2(elu(self.b1(elu(x))))

  def official_modules(self) -> dict[str, _Official]:
    out = {'base_conv_first/conv': self.input}
    for i, block in enumerate(self.blocks):
      out.update(block.official_modules(f'encoder_{i}'))
    out.update(self.bottleneck.official_modules('bottleneck'))
    out.update({'output_convs/conv1x1_last/conv': self.proj,
                'output_convs/shortcut_layer/conv1x1_b1/conv': self.b1,
                'output_convs/shortcut_layer/conv1x1_b2/conv': self.b2})
    return out


class Decoder(nn.Module):
  """spectrostream_decoder_config without the Lookahead: embeddings [B, N, features] ->
  spectrogram [B, 4, N*T, bins] ("internal" frames: frame s uses codes up to s // T)."""

  def __init__(self, config: SpectroStreamConfig):
    super().__init__()
    c = config
    self.config = c
    plan, c0 = c._decoder_plan()
    self.c0 = c0
    proj = c.input_bins * c0
    self.proj = Dense(c.features, proj)
    self.b1 = Dense(c.features, proj)
    self.b2 = Dense(proj, proj)
    self.res_a = Conv2d(c0, c0, (3, 3))
    self.res_b = Conv2d(c0, c0, (3, 3))
    self.blocks = nn.ModuleList(DecoderUnit(b.cin, b.cout, (b.time_stride, b.freq_stride), b.skip)
                                for b in plan)
    self.split_after = [b.split_after for b in plan]
    k = c.decoder_base_kernel
    self.output = Conv2d(plan[-1].cout, c.stft_channels // c.splits, (k, k))

  def forward(self, emb):
    c = self.config
    b, n, _ = emb.shape
    x = self.proj(emb) + self.b2(elu(self.b1(emb)))
    x = x.reshape(b, n, c.input_bins, self.c0).permute(0, 3, 1, 2)  # [B, C0, N, bins]
    x = x + self.res_b(elu(self.res_a(elu(x))))
    for block, split in zip(self.blocks, self.split_after):
      x = block(x)
      if split:
        x = to_groups(x, c.splits)
    return from_groups(self.output(elu(x)), c.splits)

  def official_modules(self) -> dict[str, _Official]:
    out = {'input_layer/conv1x1_first/conv': self.proj,
           'input_layer/shortcut_layer/conv1x1_b1/conv': self.b1,
           'input_layer/shortcut_layer/conv1x1_b2/conv': self.b2,
           'input_layers_residual_unit/conv2d_3x3_a/conv': self.res_a,
           'input_layers_residual_unit/conv2d_3x3/conv': self.res_b}
    for i, block in enumerate(self.blocks):
      out.update(block.official_modules(f'decoder_{i}'))
    out['output_layer/base_conv_last/conv'] = self.output
    return out


# ---- residual vector quantizer ----------------------------------------------------------------

class ResidualVQ(nn.Module):
  """ResidualVectorQuantizer: `levels` codebooks [levels, codebook, features] (the official
  `quantizer/embedding`).

  Inference (`encode`) is the official embeddings_to_codes: per level the row with the least
  |c|^2 - 2 x.c (ties -> lowest index), the residual loses x + (q - x). `decode` sums the rows
  of the given levels in level order (codes_to_embeddings).

  Training (`forward`): straight-through estimator on the sum (the official
  `inputs + stop_gradient(quantized - inputs)`), commitment loss sum_l |r_l - sg(q_l)|^2 (mean
  over vectors and features), codebooks learned by EMA of their assigned residuals with
  dead-code restarts (`update='ema'`, no gradient), or by the codebook loss |sg(r_l) - q_l|^2
  added to the returned loss (`update='loss'`). `n_levels` (int or a [B] tensor) masks levels
  >= n from the output sum per example (quantizer dropout); every level is still quantized and
  trained, as the official code does ("compute the unmasked quantized value").
  """

  def __init__(self, levels: int, codebook: int, features: int, *, update: str = 'ema',
               decay: float = 0.99, dead_threshold: float = 1e-3, init_scale: float = 1.0):
    super().__init__()
    if update not in ('ema', 'loss'):
      raise ValueError(f"update must be 'ema' or 'loss', not {update!r}")
    self.levels, self.codebook, self.features = levels, codebook, features
    self.update, self.decay, self.dead_threshold = update, decay, dead_threshold
    self.embedding = nn.Parameter(torch.randn(levels, codebook, features) * init_scale / math.sqrt(features),
                                  requires_grad=(update == 'loss'))
    self.register_buffer('ema_count', torch.ones(levels, codebook))
    self.register_buffer('ema_sum', self.embedding.detach().clone())

  @staticmethod
  def _scores(x, table):
    """The official score |c|^2 - 2 x.c (pairwise distance without |x|^2): [..., K]."""
    return (table * table).sum(-1) - 2 * x @ table.t()

  @torch.no_grad()
  def encode(self, emb, n_levels: int | None = None):
    """[B, N, D] -> codes [B, N, n_levels] (int64), official inference."""
    n = self.levels if n_levels is None else n_levels
    residual = emb.detach().clone()
    codes = []
    for level in range(n):
      table = self.embedding[level]
      idx = self._scores(residual, table).argmin(-1)
      q = table[idx]
      residual = residual - (residual + (q - residual))
      codes.append(idx)
    return torch.stack(codes, -1)

  def decode(self, codes):
    """codes [B, N, L'] (L' <= levels, the first L' levels) -> embeddings [B, N, D]."""
    out = 0
    for level in range(codes.shape[-1]):
      out = out + F.embedding(codes[..., level], self.embedding[level])
    return out

  def forward(self, emb, n_levels=None):
    """Training form: (quantized_st [B, N, D], codes [B, N, levels], loss). `loss` is the
    commitment loss (plus the codebook loss when update == 'loss')."""
    residual = emb
    total = torch.zeros_like(emb)
    commit = emb.new_zeros(())
    codebook_loss = emb.new_zeros(())
    codes = []
    if n_levels is None:
      keep = None
    else:
      n = torch.as_tensor(n_levels, device=emb.device).reshape(-1)
      keep = (torch.arange(self.levels, device=emb.device)[None, :] < n[:, None]).to(emb.dtype)  # [B|1, L]
    for level in range(self.levels):
      table = self.embedding[level]
      with torch.no_grad():
        idx = self._scores(residual.detach(), table.detach()).argmin(-1)
      q = F.embedding(idx, table)
      commit = commit + F.mse_loss(residual, q.detach())
      if self.update == 'loss':
        codebook_loss = codebook_loss + F.mse_loss(q, residual.detach())
      if self.training and self.update == 'ema':
        self._ema_update(level, residual.detach(), idx)
      weight = 1.0 if keep is None else keep[:, level].reshape(-1, *([1] * (emb.dim() - 1)))
      total = total + weight * q.detach()
      residual = residual - q.detach()
      codes.append(idx)
    quantized = emb + (total - emb).detach()
    return quantized, torch.stack(codes, -1), commit + codebook_loss

  @torch.no_grad()
  def _ema_update(self, level, residual, idx):
    x = residual.reshape(-1, self.features).float()
    i = idx.reshape(-1)
    count = torch.zeros(self.codebook, device=x.device).index_add_(0, i, torch.ones_like(i, dtype=x.dtype))
    sums = torch.zeros(self.codebook, self.features, device=x.device).index_add_(0, i, x)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
      torch.distributed.all_reduce(count)
      torch.distributed.all_reduce(sums)
    d = self.decay
    self.ema_count[level].mul_(d).add_(count, alpha=1 - d)
    self.ema_sum[level].mul_(d).add_(sums, alpha=1 - d)
    n = self.ema_count[level].sum()
    smoothed = (self.ema_count[level] + 1e-5) / (n + self.codebook * 1e-5) * n  # Laplace
    self.embedding.data[level] = self.ema_sum[level] / smoothed[:, None]
    dead = self.ema_count[level] < self.dead_threshold
    if dead.any() and x.shape[0] > 0:  # restart unused codes on random residuals of this batch
      pick = torch.randint(0, x.shape[0], (int(dead.sum()),), device=x.device)
      self.embedding.data[level, dead] = x[pick]
      self.ema_sum[level, dead] = x[pick]
      self.ema_count[level, dead] = 1.0


# ---- the codec ----------------------------------------------------------------------------

OFFICIAL_PREFIXES = ('params/soundstream/', 'params/')


class Reconstruction(NamedTuple):
  """What SpectroStream.forward returns to training (shapes in its docstring)."""
  audio: torch.Tensor
  spectrum: torch.Tensor
  quantized: torch.Tensor
  codes: torch.Tensor
  vq_loss: torch.Tensor


class SpectroStream(nn.Module):
  """The codec. `encoder=False` builds the decoder side only (what the LM checkpoints hold)."""

  def __init__(self, config: SpectroStreamConfig, *, encoder: bool = True, rvq_update: str = 'ema'):
    super().__init__()
    self.config = config.validate()
    c = config
    self.stft = Stft(c.fft_size, c.hop)
    self.istft = InverseStft(c.fft_size, c.hop)
    self.encoder = Encoder(c) if encoder else None
    self.quantizer = ResidualVQ(c.levels, c.codebook, c.features, update=rvq_update)
    self.decoder = Decoder(c)

  # -- inference paths (official semantics) --
  def embed(self, audio):
    """audio [B, 2, S], S a multiple of frame_samples -> embeddings [B, S/frame_samples, D]."""
    if audio.shape[-1] % self.config.frame_samples:
      raise ValueError(f'{audio.shape[-1]} samples is not a multiple of frame_samples '
                       f'{self.config.frame_samples}')
    return self.encoder(self.stft(audio))

  def encode(self, audio, n_levels: int | None = None):
    """audio -> codes [B, N, n_levels] (default lm_levels), official inference."""
    return self.quantizer.encode(self.embed(audio), self.config.lm_levels if n_levels is None else n_levels)

  def decoded_spectrum(self, emb):
    """embeddings [B, N, D] -> the decoder's output [B, 4, (N - lookahead)*stft_frames, bins]
    from the first heard frame: STFT frame j of it stands for the input audio's STFT frame j."""
    return self.decoder(emb)[:, :, self.config.lookahead * self.config.stft_frames:]

  def decode_embeddings(self, emb):
    """embeddings [B, N, D] -> official layer-wise audio [B, 2, (N - lookahead)*frame_samples]."""
    return self.audio_from_spectrum(self.decoded_spectrum(emb))

  def audio_from_spectrum(self, spectrum):
    """The decoder's output from its first heard frame (decoded_spectrum) -> audio."""
    return self.istft(self.output_spectrum(spectrum))

  def decode(self, codes):
    """codes [B, N, L] -> official layer-wise audio [B, 2, (N - lookahead)*frame_samples]
    (audio frame t from codes up to t + lookahead)."""
    return self.decode_embeddings(self.quantizer.decode(codes))

  def decode_streaming(self, codes):
    """What continuo's (and the official) streaming decoder emits from a fresh state, one call
    per token frame: [B, 2, N*frame_samples], the first `lookahead` frames silent, then
    decode(codes). Equal to decode(codes) delayed by `lookahead` frames."""
    spec = self.decoder(self.quantizer.decode(codes))
    masked = self.config.lookahead * self.config.stft_frames
    spec = torch.cat([torch.zeros_like(spec[:, :, :masked]), self.output_spectrum(spec[:, :, masked:])], 2)
    return self.istft(spec)

  def output_spectrum(self, spec):
    """The decoder's output as the spectrum the inverse STFT takes: itself, or in the
    phase_accumulate mode its magnitudes and phase advances integrated, or in the peak_phase
    mode its magnitudes with the phases they imply. The lookahead's
    masked frames are cut before this, so the running phase starts at the first heard frame."""
    if self.config.phase_accumulate:
      return accumulate_phase(spec)
    return peak_phase(spec) if self.config.peak_phase else spec

  # -- training --
  def forward(self, audio, n_levels=None) -> 'Reconstruction':
    """audio [B, 2, S] -> Reconstruction: audio_hat [B, 2, S - lookahead*frame_samples]
    reconstructs audio[..., :audio_hat.shape[-1]]; spectrum is the decoder's output it was made
    from (decoded_spectrum); quantized is what the decoder got (the kept levels' rows summed);
    gradients reach the encoder through the straight-through estimator. n_levels: quantizer
    dropout (see ResidualVQ)."""
    emb = self.embed(audio)
    quantized, codes, vq_loss = self.quantizer(emb, n_levels)
    spectrum = self.decoded_spectrum(quantized)
    return Reconstruction(self.audio_from_spectrum(spectrum), spectrum, quantized, codes, vq_loss)

  # -- official checkpoint layout --
  def official_modules(self) -> dict[str, _Official]:
    out = {f'decoder/{k}': v for k, v in self.decoder.official_modules().items()}
    if self.encoder is not None:
      out.update({f'encoder/{k}': v for k, v in self.encoder.official_modules().items()})
    return out

  def official_shapes(self, prefix: str = 'params/soundstream/') -> dict[str, tuple[int, ...]]:
    shapes = {f'{prefix}quantizer/embedding': tuple(self.quantizer.embedding.shape)}
    for path, module in self.official_modules().items():
      for leaf, shape in module.official_shapes().items():
        shapes[f'{prefix}{path}/{leaf}'] = shape
    return dict(sorted(shapes.items()))

  def to_official(self, prefix: str = 'params/soundstream/') -> dict:
    """name -> float32 numpy array in the official layout (`params/soundstream/...` as in the
    LM checkpoints; prefix='params/' for the standalone SpectroStream file layout)."""
    out = {f'{prefix}quantizer/embedding': _np(self.quantizer.embedding)}
    for path, module in self.official_modules().items():
      for leaf, value in module.official().items():
        out[f'{prefix}{path}/{leaf}'] = _np(value)
    return dict(sorted(out.items()))

  @torch.no_grad()
  def load_official(self, params: dict, *, strict: bool = True) -> 'SpectroStream':
    """Loads official-layout tensors (numpy or torch), under `params/soundstream/` or
    `params/`. Quantizer levels beyond this model's are dropped (the official checkpoint has 64).
    strict: also refuse SpectroStream parameters this model has no place for (other
    `params/...` names, e.g. the Depthformer's, are ignored)."""
    prefix = next((p for p in OFFICIAL_PREFIXES if f'{p}quantizer/embedding' in params), None)
    if prefix is None:
      raise KeyError('no quantizer/embedding under params/soundstream/ or params/')
    table = torch.tensor(np.asarray(params[f"{prefix}quantizer/embedding"], dtype=np.float32))
    want = tuple(self.quantizer.embedding.shape)
    if table.shape[0] < want[0] or tuple(table.shape[1:]) != want[1:]:
      raise ValueError(f'{prefix}quantizer/embedding: shape {list(table.shape)} does not hold {list(want)}')
    self.quantizer.embedding.data.copy_(table[:want[0]])
    self.quantizer.ema_sum.copy_(table[:want[0]])
    self.quantizer.ema_count.fill_(1.0)
    used = {f'{prefix}quantizer/embedding'}
    for path, module in self.official_modules().items():
      shapes = module.official_shapes()
      leaves = {leaf: _take(params, f'{prefix}{path}/{leaf}', shape) for leaf, shape in shapes.items()}
      module.load_official_leaves(leaves)
      used.update(f'{prefix}{path}/{leaf}' for leaf in shapes)
    if strict:
      parts = ('decoder/', 'quantizer/') + (('encoder/',) if self.encoder is not None else ())
      extra = sorted(k for k in params if k.startswith(prefix) and k[len(prefix):].startswith(parts)
                     and k not in used)
      if extra:
        raise ValueError('official parameters this config has no place for: ' + ', '.join(extra[:5]))
    return self
