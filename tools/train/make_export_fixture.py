#!/usr/bin/env python3
"""Export parity fixture: a codec of the default config's family, exported the way a trained one
is, with what PyTorch encodes and decodes, for continuo to reproduce
(tests/unit/test_spectrostream_parity.cpp and test_spectrostream_encoder.cpp run it).

  .venv-train/bin/python tools/train/make_export_fixture.py [--out tests/fixtures/default_codec]
  .venv-train/bin/python tools/train/make_export_fixture.py --output-mode phase_accumulate [--out tests/fixtures/default_codec_phase]
  .venv-train/bin/python tools/train/make_export_fixture.py --output-mode peak_phase [--out tests/fixtures/default_codec_peak]

The config is spectrostream_config.DEFAULT with narrow widths (EXPORT_FIXTURE: same STFT,
strides, channel split, lookahead and 12 levels; channel bases 2, 16 features, 64 codes) so the
committed files stay near 1 MB. Random weights (torch's init); the codebooks are drawn from the
encoder's own residuals on the fixture audio, so the codes spread over the table as a trained
codec's do, not onto one row; the output conv is scaled to a decoded peak of PEAK. Seeds are
tried until every code choice is clear of a tie (the second-best score exceeds the best by
MIN_MARGIN of its level's largest score), so fp32 summation order cannot flip a code.

--output-mode phase_accumulate: the same with SpectroStreamConfig.phase_accumulate (the
decoder's output is magnitudes and phase advances, integrated per bin; the package gets
codec_phase_accumulate = 1) and PHASE_FRAMES frames, to keep the fixture under 1 MB: still past
the decoder's own receptive field (14 frames; the encoder's 28 are covered by the first
fixture). --output-mode peak_phase: likewise with SpectroStreamConfig.peak_phase (magnitudes
only, phased from their peaks; codec_peak_phase = 1), and a seed is also refused unless every
peak decision on its decode is clear by PEAK_MARGIN (peak_margin), so the decoder's rounding
cannot move a peak.

Writes OUT/package/ (model.toml + codec.safetensors, by to_official() -> checkpoint.save ->
tools/mrt2_codec.py package, the trained codec's export path), OUT/fixtures.safetensors and
OUT/index.json (the arrays, their meaning, sha256s).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))

from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.spectrostream import PEAK_FLOOR, SpectroStream  # noqa: E402
from mrt2_torch.spectrostream_config import DEFAULT  # noqa: E402

EXPORT_FIXTURE = DEFAULT.replace(encoder_base_channels=2, decoder_base_channels=2, features=16, codebook=64)
FRAMES = 32          # > the config's receptive field (28 frames): every streaming buffer fills
PHASE_FRAMES = 24    # --output-mode
FIXTURES = {None: 'default_codec', 'phase_accumulate': 'default_codec_phase', 'peak_phase': 'default_codec_peak'}
MIN_MARGIN = 1e-5    # of the level's max |score|: 100x fp32's error on a 16-term dot product
PEAK_MARGIN = 1e-5   # relative: the convolutions' fp32 summation order moves a magnitude by ~1e-7
PEAK = 0.25          # decoded level (random init decodes at ~1e-4)


def fixture_audio(config, frames: int, rng: np.random.Generator) -> np.ndarray:
  """Stereo sines with vibrato, a chirp and noise at -12 dBFS, int16 [frames*S, 2]; the last
  quarter digital silence (the encoder's silence path)."""
  n = frames * config.frame_samples
  t = np.arange(n) / config.sample_rate
  left = 0.3 * np.sin(2 * np.pi * (220 * t + 3 * np.sin(2 * np.pi * 5 * t))) + 0.05 * rng.standard_normal(n)
  right = 0.2 * np.sin(2 * np.pi * (110 + 900 * t) * t) + 0.1 * np.sin(2 * np.pi * 3520 * t)
  audio = np.stack([left, right], 1) * 0.5
  audio[3 * n // 4:] = 0.0
  return np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)


@torch.no_grad()
def codebooks_from_residuals(model, emb: torch.Tensor, rng: np.random.Generator) -> None:
  """Level l's rows: residuals of level l at random frames, scaled by U(0.5, 1.5), plus noise of
  half their RMS, so no row equals a residual (which would zero it and tie every later level)."""
  q = model.quantizer
  residual = emb.reshape(-1, emb.shape[-1])
  for level in range(q.levels):
    picks = torch.from_numpy(rng.integers(0, len(residual), q.codebook))
    scale = torch.from_numpy(rng.uniform(0.5, 1.5, (q.codebook, 1)).astype(np.float32))
    noise = torch.from_numpy(rng.standard_normal((q.codebook, residual.shape[1])).astype(np.float32))
    q.embedding.data[level] = residual[picks] * scale + 0.5 * residual.std() * noise
    chosen = q.embedding[level][q._scores(residual, q.embedding[level]).argmin(-1)]
    residual = residual - chosen


@torch.no_grad()
def set_output_level(model, codes: torch.Tensor) -> None:
  """Scales the decoder's output conv so the decoded peak is PEAK, a signal at a real level."""
  gain = PEAK / model.decode(codes).abs().max().item()
  model.decoder.output.weight.mul_(gain)
  model.decoder.output.bias.mul_(gain)


def code_margins(model, emb: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
  """Second-best minus best official score per frame and level (float64), and each level's
  max |score| (fp32 rounding in the scores is relative to it)."""
  table = model.quantizer.embedding.detach().double()
  residual = emb[0].double()
  margins, scales = [], []
  for level in range(model.config.lm_levels):
    scores = (table[level] ** 2).sum(-1) - 2 * residual @ table[level].t()
    best = scores.topk(2, largest=False).values
    margins.append((best[:, 1] - best[:, 0]).numpy())
    scales.append(scores.abs().max().item())
    residual = residual - table[level][scores.argmin(-1)]
  return np.stack(margins, 1), np.array(scales)


@torch.no_grad()
def peak_margin(model, codes: torch.Tensor) -> float:
  """The smallest relative gap among the peak_phase mode's decisions on this decode (the heard
  frames): each bin's magnitude against its neighbour's and against the frame's floor."""
  spec = model.decoder(model.quantizer.decode(codes))[:, :, model.config.lookahead * model.config.stft_frames:]
  b, c2, n, bins = spec.shape
  x = spec.reshape(b, c2 // 2, 2, n, bins)
  m = torch.sqrt(x[:, :, 0] ** 2 + x[:, :, 1] ** 2 + 1e-20).double()
  floor = PEAK_FLOOR * m.amax(-1, keepdim=True)
  return min(((m[..., 1:] - m[..., :-1]).abs() / m[..., 1:]).min().item(), ((m - floor).abs() / m).min().item())


def build(seed: int, config, frames: int):
  torch.manual_seed(seed)
  rng = np.random.default_rng(seed)
  model = SpectroStream(config).eval()
  audio_int16 = fixture_audio(config, frames, rng)
  audio = torch.from_numpy(audio_int16.T.astype(np.float32) / 32768)[None]
  with torch.no_grad():
    emb = model.embed(audio)
    codebooks_from_residuals(model, emb, rng)
    codes = model.encode(audio)
    set_output_level(model, codes)
    decoded = model.decode_streaming(codes)
  margins, scale = code_margins(model, emb)
  return model, audio_int16, emb, codes, decoded, margins, scale


def per_frame(audio: torch.Tensor, frame_samples: int) -> np.ndarray:
  """[1, 2, T*S] -> [T, S, 2] (continuo's interleaved stereo per call)."""
  return audio[0].T.reshape(-1, frame_samples, 2).numpy().astype(np.float32)


def sha256(path: Path) -> str:
  return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--output-mode', choices=tuple(FIXTURES)[1:],
                  help='continuo\'s own output mode (default --out tests/fixtures/' + FIXTURES['phase_accumulate']
                  + ' or ' + FIXTURES['peak_phase'] + ')')
  ap.add_argument('--out', type=Path)
  args = ap.parse_args(argv)
  torch.set_num_threads(1)
  mode = args.output_mode
  config = EXPORT_FIXTURE.replace(**({mode: True} if mode else {}))
  frames = PHASE_FRAMES if mode else FRAMES
  args.out = args.out or ROOT / 'tests' / 'fixtures' / FIXTURES[mode]
  for seed in range(1, 50):
    model, audio_int16, emb, codes, decoded, margins, scales = build(seed, config, frames)
    if (margins / scales).min() >= MIN_MARGIN and (mode != 'peak_phase' or peak_margin(model, codes) >= PEAK_MARGIN):
      break
  else:
    raise SystemExit('no seed gave code choices clear of ties')
  distinct = len(np.unique(codes[0].numpy()))
  print(f'seed {seed}: {distinct} distinct codes, smallest margin {(margins / scales).min():.3g} of its '
        f'level\'s largest score, '
        f'decoded peak {decoded.abs().max().item():.3g}')

  args.out.mkdir(parents=True, exist_ok=True)
  arrays = {
      'encoder_audio': audio_int16.reshape(frames, config.frame_samples, 2),
      'embeddings': emb[0].numpy(),
      'codes': codes[0].numpy().astype(np.int32),
      'code_margin': margins.astype(np.float32),
      'audio': per_frame(decoded, config.frame_samples),
  }
  checkpoint.save(args.out / 'fixtures.safetensors', arrays)
  with tempfile.TemporaryDirectory() as tmp:
    weights = Path(tmp) / 'codec_official.safetensors'
    checkpoint.save(weights, model.to_official())
    subprocess.run([sys.executable, ROOT / 'tools' / 'mrt2_codec.py', 'package', weights, args.out / 'package',
                    '--name', 'spectrostream_' + FIXTURES[mode].replace('default_codec', 'default_family_fixture'),
                    '--source', 'tools/train/make_export_fixture.py (random weights, PyTorch)',
                    '--licence', 'Apache-2.0 (random weights)', '--sample-rate', str(config.sample_rate),
                    '--audio-rate', str(config.sample_rate), '--frame-rate', repr(config.frame_rate)]
                   + (['--output-mode', mode] if mode else []),
                   check=True, stdout=subprocess.DEVNULL)
  meaning = {
      'encoder_audio': 'int16 [T,S,2] encoder input (float = int16 / 32768), stereo interleaved per frame; '
                       'the last quarter digital silence',
      'embeddings': 'float32 [T,features] SpectroStream.embed(audio): frame t from samples < (t+1)*S + fft - hop',
      'codes': 'int32 [T,12] SpectroStream.encode(audio): continuo encoder call t+1 returns codes[t] (call 0 '
               'returns zeros; call T, fed silence, returns codes[T-1])',
      'code_margin': 'float32 [T,12] second-best minus best score |c|^2 - 2x.c per choice (float64)',
      'audio': 'float32 [T,S,2] SpectroStream.decode_streaming(codes): what continuo decode() returns call by '
               'call; frame 0 is the lookahead (zeros)',
  }
  index = {
      'about': 'tools/train/make_export_fixture.py: PyTorch SpectroStream (mrt2_torch), random weights, '
               f'seed {seed}, exported through to_official() and tools/mrt2_codec.py package',
      'config': {k: getattr(config, k) for k in config.__dataclass_fields__},
      'frames': frames, 'smallest_relative_code_margin': float((margins / scales).min()),
      'arrays': {k: {'shape': list(v.shape), 'dtype': str(v.dtype), 'meaning': meaning[k]} for k, v in arrays.items()},
      'sha256': {p: sha256(args.out / p) for p in ('fixtures.safetensors', 'package/codec.safetensors')},
  }
  (args.out / 'index.json').write_text(json.dumps(index, indent=1) + '\n')
  return 0


if __name__ == '__main__':
  sys.exit(main())
