#!/usr/bin/env python3
"""Checks tools/train/mrt2_torch/spectrostream.py against the official JAX fixtures.

  .venv-train/bin/python tools/train/check_spectrostream.py

1. names: the official 48 kHz model built here has exactly the shapes of
   tests/fixtures/mrt2/names_spectrostream.txt; for the official, tiny and default configs
   (the default also with phase_accumulate, and the peak preset) the config's codec_keys() equal what
   tools/mrt2_codec.py reads off to_official()'s shapes.
2. round trip: load_official(tiny weights) then to_official() gives the same tensors bit for
   bit (tiny.safetensors: LM layout params/soundstream/...; the encoder file: params/...),
   and a random default-config model survives to_official -> load_official.
3. decoder: tests/fixtures/mrt2/tiny fixture `codes` -> decode_streaming -> audio_float (the
   official streamed float output) and its int16 conversion -> audio_int16.
4. encoder: tests/fixtures/mrt2/tiny_encoder audio -> stft -> embeddings -> codes against
   the official streamed arrays (stream call k = layer-wise token frame k - 1). Codes must be
   equal; a differing code is tolerated only where the official margin (second-best minus best
   score, `code_margin`) is below 1e-5 of the scores' scale, i.e. a float32 near-tie.
5. training smoke: forward/backward on the tiny config with EMA and codebook-loss RVQs.

Prints max relative error (max |ours - official| / max |official|) per stage; exits 1 if
any is above 1e-4 or a check fails. torch.set_num_threads(1); CPU; a few seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))
sys.path.insert(0, str(ROOT / 'tools'))

import mrt2_codec  # noqa: E402  (numpy-only safetensors IO and the converter's shape reading)
from mrt2_torch.spectrostream import SpectroStream  # noqa: E402
from mrt2_torch.spectrostream_config import DEFAULT, OFFICIAL, PEAK, TINY  # noqa: E402

FIX = ROOT / 'tests' / 'fixtures' / 'mrt2'
BOUND = 1e-4
failures: list[str] = []


def rel(ours, official) -> float:
  ours, official = np.asarray(ours, np.float64), np.asarray(official, np.float64)
  return float(np.abs(ours - official).max() / max(np.abs(official).max(), 1e-30))


def report(stage: str, err: float, bound: float = BOUND) -> None:
  ok = err <= bound
  print(f'  {stage:44s} max rel err {err:.3g}  {"ok" if ok else "FAIL (> %.0e)" % bound}')
  if not ok:
    failures.append(stage)


def check(stage: str, ok: bool, detail: str = '') -> None:
  print(f'  {stage:44s} {"ok" if ok else "FAIL"} {detail}')
  if not ok:
    failures.append(stage)


def names() -> None:
  print('names and manifest keys')
  listed = {n: s for n, s in mrt2_codec._read_names(FIX / 'names_spectrostream.txt')}
  with torch.device('meta'):
    official = SpectroStream(OFFICIAL.replace(levels=64))
  ours = official.official_shapes(prefix='params/')
  check('official 48 kHz shapes = names_spectrostream.txt', ours == listed,
        f'({len(ours)} tensors)' if ours == listed else
        f'missing {sorted(set(listed) - set(ours))[:3]} extra {sorted(set(ours) - set(listed))[:3]}')
  for label, config in (('official', OFFICIAL), ('tiny', TINY), ('default', DEFAULT),
                        ('default, phase_accumulate', DEFAULT.replace(phase_accumulate=True)),
                        ('peak', PEAK)):
    with torch.device('meta'):
      model = SpectroStream(config)
    _, arch = mrt2_codec.check_codec_names(model.official_shapes().items(), sample_rate=config.sample_rate,
                                           lookahead=config.lookahead, output_mode=config.output_mode)
    keys = config.codec_keys()
    diff = {k: (keys.get(k), arch.get(k)) for k in set(keys) | set(arch) if keys.get(k) != arch.get(k)}
    check(f'{label}: codec_keys() = tools/mrt2_codec.py', not diff, str(diff) if diff else f'({len(keys)} keys)')
  torch.manual_seed(0)
  first = SpectroStream(DEFAULT).to_official()
  again = SpectroStream(DEFAULT).load_official(first).to_official()
  check('default: to_official -> load_official exact', first.keys() == again.keys() and all(
      np.array_equal(first[k], again[k]) for k in first), f'({len(first)} tensors)')


def round_trip(model: SpectroStream, params: dict, prefix: str, label: str) -> None:
  out = model.to_official(prefix=prefix)
  mine = {k: v for k, v in params.items() if k.startswith(prefix) and k[len(prefix):].startswith(
      ('decoder/', 'quantizer/', 'encoder/'))}
  same = out.keys() == mine.keys() and all(
      out[k].shape == mine[k].shape and np.array_equal(out[k], mine[k]) for k in out)
  check(f'{label}: load_official -> to_official exact', same, f'({len(out)} tensors)')


def decoder() -> None:
  print('decoder (tests/fixtures/mrt2/tiny)')
  params = mrt2_codec.read_safetensors(FIX / 'tiny' / 'tiny.safetensors')
  model = SpectroStream(TINY, encoder=False).load_official(params).eval()
  round_trip(model, params, 'params/soundstream/', 'tiny.safetensors')
  fx = mrt2_codec.read_safetensors(FIX / 'tiny' / 'fixtures.safetensors')
  official = mrt2_codec.read_safetensors(FIX / 'tiny' / 'audio_float.safetensors')['audio_float']
  codes = torch.as_tensor(fx['codes'].astype(np.int64))[None]  # [1, T, 12]
  with torch.no_grad():
    stream = model.decode_streaming(codes)[0].T.numpy()  # [T*S, 2]
    layer = model.decode(codes)[0].T.numpy()
  t, s, _ = official.shape
  report('audio_float (decode_streaming, 104 frames)', rel(stream, official.reshape(t * s, 2)))
  check('first frame silent (lookahead)', not np.any(stream[:s]))
  check('decode = decode_streaming one frame later', np.array_equal(layer, stream[s:]))
  x = np.clip(0.5 * stream.astype(np.float32), -1, 1) * np.float32(32767.5) - np.float32(0.5)
  int16 = np.round(x).astype(np.int16)
  lsb = np.abs(int16.astype(np.int32) - fx['audio_int16'].reshape(t * s, 2)).max()
  exact = int((int16 == fx['audio_int16'].reshape(t * s, 2)).sum())
  check('audio_int16 within 1 LSB', lsb <= 1, f'({exact} of {int16.size} exact)')


def encoder() -> None:
  print('encoder (tests/fixtures/mrt2/tiny_encoder)')
  params = mrt2_codec.read_safetensors(FIX / 'tiny_encoder' / 'spectrostream.safetensors')
  model = SpectroStream(TINY).load_official(params).eval()
  round_trip(model, params, 'params/', 'spectrostream.safetensors')
  fx = mrt2_codec.read_safetensors(FIX / 'tiny_encoder' / 'fixtures.safetensors')
  audio = torch.tensor(fx['audio']).T[None]  # [1, 2, S]
  with torch.no_grad():
    spec = model.stft(audio)                                  # [1, 4, frames, bins]
    emb = model.encoder(spec)                                 # [1, N, D]
    codes = model.quantizer.encode(emb, 12)[0].numpy()
  spec = spec[0].permute(1, 2, 0).numpy()                     # [frames, bins, 4]
  # The official stream lags one STFT frame and one token frame (its first outputs are masked).
  report('stft (80 frames)', rel(spec[:-1], fx['stft'][1:]))
  report('embeddings (39 frames)', rel(emb[0, :-1].numpy(), fx['embeddings'][1:]))
  got, want, margin = codes[:-1], fx['codes'][1:], fx['code_margin'][1:]
  differ = got != want
  scale = float(np.abs(fx['embeddings']).max()) ** 2
  ties = differ & (margin < 1e-5 * scale)
  check('codes equal (39 frames x 12 levels)', not (differ & ~ties).any(),
        f'({int(differ.sum())} differ, {int(ties.sum())} of them near-ties; smallest official margin '
        f'{float(margin.min()):.3g})')
  check('masked first call = codes 0', not fx['codes'][0].any())


def training_smoke() -> None:
  print('training smoke (tiny config)')
  for update in ('ema', 'loss'):
    torch.manual_seed(0)
    model = SpectroStream(TINY, rvq_update=update).train()
    audio = torch.randn(2, 2, 6 * TINY.frame_samples) * 0.1
    audio_hat, _, _, codes, vq_loss = model(audio, n_levels=torch.tensor([3, 12]))
    loss = (audio_hat - audio[..., :audio_hat.shape[-1]]).pow(2).mean() + vq_loss
    loss.backward()
    grads = all(p.grad is not None for n, p in model.named_parameters() if p.requires_grad)
    check(f'rvq {update}: shapes, finite loss, gradients everywhere',
          audio_hat.shape == (2, 2, 5 * TINY.frame_samples) and codes.shape == (2, 6, 12)
          and bool(torch.isfinite(loss)) and grads and model.encoder.input.weight.grad.abs().sum() > 0)


def main() -> int:
  torch.set_num_threads(1)
  names()
  decoder()
  encoder()
  training_smoke()
  if failures:
    print(f'FAILED: {", ".join(failures)}')
    return 1
  print('all checks passed')
  return 0


if __name__ == '__main__':
  sys.exit(main())
