"""SpectroStream hyper-parameters: the official config fields, the layer plan they imply, and
continuo's `codec_*` manifest keys.

The fields are the official `SpectroStream.Config` ones (magenta_rt/jax/spectrostream.py:
ratios and mults in encoder order, base depths, channel splits and their recombination block)
because the official channel arithmetic, which decides where 1x1 shortcut convs exist, is
written in those terms. `codec_keys()` turns them into the `codec_*` / `codec_encoder_*`
entries that tools/mrt2_codec.py reads off the checkpoint shapes and continuo's manifest
holds; tools/train/check_spectrostream.py checks that the two agree.

No torch here: the plan is plain Python, so tools can size a model without PyTorch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

LM_LEVELS = 12  # RVQ levels the Depthformer predicts (continuo's codec_levels)
OUTPUT_MODES = ('phase_accumulate', 'peak_phase')  # continuo's own: flags here, codec_<mode> = 1 in a package


def resample_kernel(stride: int) -> int:
  """Kernel size of a strided (transposed) conv for `stride` (spectrostream.py)."""
  return max(3, 2 * stride)


def conv_transpose_same_pad(kernel: int, stride: int) -> int:
  """Left frequency padding of the official 'same' transposed conv (SL/convolution.py:
  transpose_conv_explicit_padding, dilation 1)."""
  pad_amount = kernel + stride - 2
  return kernel - 1 if stride > kernel - 1 else (pad_amount + 1) // 2


@dataclass(frozen=True)
class DecoderBlock:
  time_stride: int
  freq_stride: int
  cin: int          # actual input channels (per group once split)
  cout: int
  skip: bool        # official 1x1 shortcut conv (configured channel counts differ)
  grouped: bool     # runs per channel group, shared weights
  split_after: bool  # the channels split into groups after this block


@dataclass(frozen=True)
class EncoderBlock:
  time_stride: int
  freq_stride: int
  cin: int          # configured = actual input channels (the merged count at the merge block)
  cout: int
  skip: bool
  grouped: bool     # before the merge: per channel group, shared weights
  merge_before: bool  # the groups are concatenated before this block


@dataclass(frozen=True)
class SpectroStreamConfig:
  """One SpectroStream codec. Defaults: the official 48 kHz stereo 40 ms model
  (`stft_spectrostream_40ms_generic_48khz_stereo_config`), 12 quantizer levels kept."""

  sample_rate: int = 48000
  fft_size: int = 960              # = STFT frame length; bins = fft_size // 2 (Nyquist dropped)
  hop: int = 480
  audio_channels: int = 2
  ratios: tuple[tuple[int, int], ...] = ((1, 2), (1, 2), (1, 3), (1, 2), (1, 2), (2, 2), (2, 1))
  mults: tuple[float, ...] = (2, 1, 2, 1, 1, 2, 1)
  encoder_base_channels: int = 32
  encoder_base_kernel: int = 7
  decoder_base_channels: int = 64
  decoder_base_kernel: int = 7     # output conv (base_conv_last)
  features: int = 256              # embedding width (RVQ vectors)
  levels: int = 12                 # quantizers in the checkpoint (official: 64)
  codebook: int = 1024
  splits: int = 2                  # channel groups (one per audio channel), shared weights
  recombo_block: int = -2          # official channel_recombo_block
  lookahead: int = 1               # decoder lookahead in token frames (sl.Lookahead)
  lm_levels: int = LM_LEVELS       # levels the runtime decodes (truncation)
  # continuo's own output mode (not in the official model): the decoder's complex output per
  # bin gives the magnitude and how far the phase advances from the previous STFT frame, and
  # a running phase per bin turns that into the spectrum (spectrostream.accumulate_phase).
  phase_accumulate: bool = False
  # continuo's other output mode: the decoder gives only the magnitudes (|(re, im)| per bin), and
  # the phases come from them, each bin turning at the frequency of the spectral peak nearest
  # it (spectrostream.peak_phase): a note's partial turns at its own frequency with nothing
  # learnt. Pays at a finer STFT than the official 960 points (tools/train/phase_resynthesis.py).
  peak_phase: bool = False

  # ---- derived sizes -------------------------------------------------------------------
  @property
  def output_mode(self) -> str | None:
    """continuo's own output mode (the manifest's codec_<mode> = 1), or None for the official one."""
    return next((mode for mode in OUTPUT_MODES if getattr(self, mode)), None)

  @property
  def bins(self) -> int:
    return self.fft_size // 2

  @property
  def stft_channels(self) -> int:  # (re, im) per audio channel
    return 2 * self.audio_channels

  @property
  def stft_frames(self) -> int:  # STFT frames per token frame
    return math.prod(r[0] for r in self.ratios)

  @property
  def freq_scale(self) -> int:
    return math.prod(r[1] for r in self.ratios)

  @property
  def frame_samples(self) -> int:  # per token frame and audio channel
    return self.stft_frames * self.hop

  @property
  def frame_rate(self) -> float:
    return self.sample_rate / self.frame_samples

  @property
  def num_blocks(self) -> int:  # official: len(ratios) + 1 (the base conv / bottleneck)
    return len(self.ratios) + 1

  @property
  def recombo(self) -> int:
    return self.recombo_block % self.num_blocks

  @property
  def input_bins(self) -> int:
    return self.bins // self.freq_scale

  # ---- validation ----------------------------------------------------------------------
  def problems(self) -> list[str]:
    """Everything wrong with this config, as sentences (empty when valid)."""
    p = []
    def need(ok, msg):
      if not ok:
        p.append(msg)

    need(self.fft_size > 0 and self.fft_size % 2 == 0, f'fft_size {self.fft_size} must be even and positive')
    need(self.hop * 2 == self.fft_size,
         f'hop {self.hop} must be fft_size/2 = {self.fft_size // 2} (tools/mrt2_codec.py infers '
         'the hop as fft_size/2; the runtime encoder needs fft_size - hop <= frame_samples)')
    need(self.audio_channels == 2 and self.splits == 2,
         f'audio_channels {self.audio_channels} / splits {self.splits}: continuo implements stereo with '
         'one channel group per audio channel only (audio_channels = 2, splits = 2)')
    need(not (self.phase_accumulate and self.peak_phase),
         'phase_accumulate and peak_phase are two output modes: choose one')
    need(len(self.ratios) >= 2, 'ratios needs at least 2 blocks (the channels split after a block '
         'that is not the last)')
    need(len(self.mults) == len(self.ratios), f'{len(self.mults)} mults for {len(self.ratios)} ratios')
    for i, r in enumerate(self.ratios):
      need(len(r) == 2 and min(r) >= 1, f'ratios[{i}] = {r}: expected (time, freq) strides >= 1')
      need(tuple(r) != (1, 1), f'ratios[{i}] = (1, 1): a block without stride is not implemented '
           '(continuo, tools/mrt2_codec.py)')
    if p:
      return p
    need(self.bins % self.freq_scale == 0,
         f'bins {self.bins} is not divisible by the frequency strides\' product {self.freq_scale}')
    nb = self.num_blocks
    need(-nb <= self.recombo_block < nb, f'recombo_block {self.recombo_block} out of range for {nb} blocks')
    # The decoder splits after block nb - 2 - recombo; continuo needs a block before the last.
    need(1 <= self.recombo <= nb - 2,
         f'recombo_block {self.recombo_block} (= {self.recombo}) must resolve to 1 .. {nb - 2}: the '
         'decoder then splits after a block that is not its last (recombo 0 splits only the output '
         f'conv, {nb - 1} would split before the input residual unit, which the official decoder '
         'cannot build)')
    for k, name in ((self.encoder_base_kernel, 'encoder_base_kernel'),
                    (self.decoder_base_kernel, 'decoder_base_kernel')):
      need(k >= 1 and k % 2 == 1, f'{name} {k} must be odd (the runtime centres it in frequency)')
    need(self.levels >= self.lm_levels, f'levels {self.levels} < lm_levels {self.lm_levels}')
    need(self.lm_levels == LM_LEVELS, f'lm_levels must be {LM_LEVELS} (continuo\'s codec_levels)')
    need(self.codebook >= 2 and self.features >= 1, 'codebook >= 2 and features >= 1 required')
    need(self.lookahead >= 0, 'lookahead must be >= 0')
    if p:
      return p
    try:
      dec, c0 = self._decoder_plan()
      enc = self._encoder_plan()
    except ValueError as e:
      return [str(e)]
    for b in dec:
      need(b.cout >= 1, f'a decoder block has {b.cout} channels')
    for b in enc:
      need(b.cout >= 1, f'an encoder block has {b.cout} channels')
    return p

  def validate(self) -> 'SpectroStreamConfig':
    problems = self.problems()
    if problems:
      raise ValueError('invalid SpectroStreamConfig:\n  ' + '\n  '.join(problems))
    return self

  def replace(self, **changes) -> 'SpectroStreamConfig':
    return dataclasses.replace(self, **changes)

  # ---- layer plans (the official channel arithmetic) ------------------------------------
  def _decoder_plan(self) -> tuple[list[DecoderBlock], int]:
    """Decoder blocks in decoder order and the input width C0 (spectrostream_decoder_config)."""
    c0 = self.decoder_base_channels * math.prod(self.mults)
    if abs(c0 - round(c0)) > 1e-9:
      raise ValueError(f'decoder_base_channels * prod(mults) = {c0} is not an integer')
    c0 = int(round(c0))
    nb, g = self.num_blocks, self.splits
    out, configured_in, actual_in, grouped = c0, c0, c0, False
    blocks = []
    for li, (stride, mult) in enumerate(zip(self.ratios[::-1], self.mults[::-1])):
      out = int(round(out / mult))
      split = self.recombo == nb - 2 - li
      if split:
        out *= g
      blocks.append(DecoderBlock(stride[0], stride[1], actual_in, out, configured_in != out, grouped, split))
      configured_in = actual_in = out
      if split:
        if out % g:
          raise ValueError(f'decoder block {li}: {out} channels do not split into {g} groups')
        out //= g
        actual_in, grouped = out, True
    return blocks, c0

  def _encoder_plan(self) -> list[EncoderBlock]:
    """Encoder blocks then the bottleneck (last entry, strides (1, 1))."""
    g = self.splits
    cin = out = self.encoder_base_channels
    blocks = []
    for i, (stride, mult) in enumerate(zip(self.ratios, self.mults)):
      merge = self.recombo == i
      if merge:
        cin *= g
      out = int(round(out * mult))
      blocks.append(EncoderBlock(stride[0], stride[1], cin, out, cin != out, i < self.recombo, merge))
      cin = out
    merge = self.recombo == self.num_blocks - 1
    if merge:
      cin *= g
    blocks.append(EncoderBlock(1, 1, cin, out, cin != out, False, merge))
    return blocks

  @property
  def decoder_blocks(self) -> list[DecoderBlock]:
    return self._decoder_plan()[0]

  @property
  def decoder_input_channels(self) -> int:
    return self._decoder_plan()[1]

  @property
  def encoder_blocks(self) -> list[EncoderBlock]:
    return self._encoder_plan()[:-1]

  @property
  def bottleneck(self) -> EncoderBlock:
    return self._encoder_plan()[-1]

  @property
  def split_block(self) -> int:
    return next(i for i, b in enumerate(self.decoder_blocks) if b.split_after)

  # ---- continuo's manifest keys -------------------------------------------------------
  def codec_keys(self, encoder: bool = True) -> dict[str, int]:
    """The codec_* (and codec_encoder_*) entries tools/mrt2_codec.py derives from this
    config's checkpoint (with sample_rate and lookahead given to it)."""
    dec = self.decoder_blocks
    keys = {
        'codec_sample_rate': self.sample_rate, 'codec_levels': self.lm_levels,
        'codec_codebook': self.codebook, 'codec_features': self.features,
        'codec_input_bins': self.input_bins, 'codec_input_channels': self.decoder_input_channels,
        'codec_lookahead': self.lookahead, 'codec_blocks': len(dec), 'codec_splits': self.splits,
        'codec_split_block': self.split_block, 'codec_output_kernel': self.decoder_base_kernel,
        'codec_channels': self.stft_channels, 'codec_bins': self.bins, 'codec_fft_size': self.fft_size,
        'codec_hop': self.hop, 'codec_frame_samples': self.frame_samples,
    }
    if self.output_mode is not None:
      keys[f'codec_{self.output_mode}'] = 1
    for i, b in enumerate(dec):
      keys.update({f'codec_block{i}_time_stride': b.time_stride, f'codec_block{i}_freq_stride': b.freq_stride,
                   f'codec_block{i}_channels': b.cout})
    if encoder:
      enc = self.encoder_blocks
      keys.update({'codec_encoder_base_kernel': self.encoder_base_kernel,
                   'codec_encoder_base_channels': self.encoder_base_channels,
                   'codec_encoder_blocks': len(enc), 'codec_encoder_splits': self.splits,
                   'codec_encoder_merge_block': self.recombo,
                   'codec_encoder_bins': self.input_bins})
      for i, b in enumerate(enc):
        keys.update({f'codec_encoder_block{i}_time_stride': b.time_stride,
                     f'codec_encoder_block{i}_freq_stride': b.freq_stride,
                     f'codec_encoder_block{i}_channels': b.cout})
    return keys

  # ---- cost ---------------------------------------------------------------------------
  def decoder_macs(self) -> dict[str, int]:
    """Multiply-adds per token frame of continuo's decoder (both groups), by part."""
    t, f = 1, self.input_bins
    c0 = self.decoder_input_channels
    proj = f * c0
    macs = {'input': self.features * proj * 2 + proj * proj + 2 * 9 * c0 * c0 * f}
    for i, b in enumerate(self.decoder_blocks):
      groups = self.splits if b.grouped else 1
      kt, kf = resample_kernel(b.time_stride), resample_kernel(b.freq_stride)
      up = t * f * kt * kf * b.cin * b.cout  # every input pixel meets every tap
      t, f = t * b.time_stride, f * b.freq_stride
      conv = t * f * 9 * b.cout * b.cout
      skip = (t // b.time_stride) * (f // b.freq_stride) * b.cin * b.cout if b.skip else 0
      macs[f'block{i}'] = groups * (up + conv + skip)
    last = self.decoder_blocks[-1].cout
    macs['output'] = self.splits * t * f * self.decoder_base_kernel ** 2 * last * 2
    return macs

  def parameter_count(self) -> dict[str, int]:
    """Decoder, encoder and quantizer parameters (the checkpoint's)."""
    c0, f = self.decoder_input_channels, self.input_bins
    dec = (self.features * f * c0 + f * c0) * 2 + (f * c0) ** 2 + f * c0 + 2 * (9 * c0 * c0 + c0)
    for b in self.decoder_blocks:
      dec += resample_kernel(b.time_stride) * resample_kernel(b.freq_stride) * b.cin * b.cout + b.cout
      dec += 9 * b.cout * b.cout + b.cout + ((b.cin * b.cout + b.cout) if b.skip else 0)
    dec += self.decoder_base_kernel ** 2 * self.decoder_blocks[-1].cout * 2 + 2
    enc = self.encoder_base_kernel ** 2 * 2 * self.encoder_base_channels + self.encoder_base_channels
    for b in self._encoder_plan():
      k = (resample_kernel(b.time_stride), resample_kernel(b.freq_stride))
      enc += 9 * b.cin * b.cin + b.cin + k[0] * k[1] * b.cin * b.cout + b.cout
      enc += (b.cin * b.cout + b.cout) if b.skip else 0
    flat = self.input_bins * self.bottleneck.cout
    enc += 2 * (flat * self.features + self.features) + flat * flat + flat
    return {'decoder': dec, 'encoder': enc, 'quantizer': self.levels * self.codebook * self.features}


# ---- presets -------------------------------------------------------------------------------

# The official 48 kHz stereo model, 12 levels kept (its checkpoint has 64).
OFFICIAL = SpectroStreamConfig()

# The tiny fixtures' codec (tests/fixtures/mrt2/tiny/config.json "spectrostream", and
# tests/fixtures/mrt2/tiny_encoder: tools/make_fixtures.py tiny_configs()).
TINY = SpectroStreamConfig(
    sample_rate=3200, fft_size=64, hop=32, ratios=((1, 2), (2, 2)), mults=(2, 1),
    encoder_base_channels=4, encoder_base_kernel=3, decoder_base_channels=4, decoder_base_kernel=3,
    features=8, levels=12, codebook=16)

# continuo's bundled default (docs/training-codec.md): the official layout, STFT and strides
# (48 kHz stereo, 960/480, 25 Hz, 12 x 1024 RVQ) with narrow widths where the resolution is
# high: decoder channels 128 x 5 bins -> 256 (2 x 128) -> 64 -> 32 -> 32 -> 16 -> 16 -> 16,
# 3x3 output conv; 53 M multiply-adds per frame (official: 1906 M).
DEFAULT = SpectroStreamConfig(
    encoder_base_channels=16, encoder_base_kernel=7, decoder_base_channels=16, decoder_base_kernel=3,
    mults=(1, 1, 2, 1, 2, 2, 1), features=128, levels=12, codebook=1024)

# DEFAULT's widths at a 1920-point STFT (25 Hz bins, hop 960: two STFT frames per token frame,
# so the last block strides frequency instead of time) in the peak_phase output mode: at 25 Hz
# bins a note's partials stand apart, and magnitudes with peak-locked phases play its pitch as
# the source does (tools/train/phase_resynthesis.py; docs/training-codec.md).
PEAK = DEFAULT.replace(fft_size=1920, hop=960, ratios=DEFAULT.ratios[:-1] + ((1, 2),), peak_phase=True)

PRESETS = {'official': OFFICIAL, 'tiny': TINY, 'default': DEFAULT, 'peak': PEAK}
