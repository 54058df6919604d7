#!/usr/bin/env python3
"""Checks the PyTorch Depthformer (tools/train/mrt2_torch/depthformer.py) against the
official JAX code's fixtures, and its official-layout checkpoint mapping.

  .venv-train/bin/python tools/train/check_depthformer.py [--float64]

1. Loads tests/fixtures/mrt2/tiny/tiny.safetensors (official layout) into the model, runs it
   teacher-forced over the 104 frames of fixtures.safetensors in one parallel call and prints
   max |ours - reference| / max |reference| per stage (the official run was streaming, one
   frame at a time, fp32). Fails above 1e-4.
2. Replays the stored Gumbel noise on our soft-capped logits (temperature 1.3, top-k 5):
   every sampled token must come out as the reference's.
3. Causality: a prefix of the sequence gives the same outputs as the whole sequence.
4. Official layout: to_official() round-trips tiny.safetensors bit for bit (also through
   checkpoint.save/load), the config read from the shapes equals tiny/package/model.toml's
   [architecture], and mrt2_small / mrt2_base configs produce exactly the names and shapes of
   tests/fixtures/mrt2/names_mrt2_{small,base}.txt; a checkpoint of another size converts
   with tools/convert_mrt2.py into a package whose [architecture] is its config.
5. Training path: token dropout masks what it should; loss() back-propagates into every
   parameter.
CPU only, one thread, a few seconds. Needs torch and numpy, nothing else.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools/train'))

from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.depthformer import DF, Depthformer, config_from_official  # noqa: E402
from mrt2_torch.depthformer_config import ConfigError, DepthformerConfig  # noqa: E402

TINY = ROOT / 'tests/fixtures/mrt2/tiny'
NAMES = ROOT / 'tests/fixtures/mrt2'
LIMIT = 1e-4
TEMPERATURE, TOP_K = 1.3, 5  # tiny/config.json


def stage_names(config):
  names = ['enc_mulan_branch', 'enc_regular_branch', 'enc_embedding', 'enc_output',
           'temporal_inputs']
  for i in range(config.temporal_layers):
    names += [f'temporal_l{i}_{b}' for b in ('self_attention', 'cross_attention', 'ffn')]
  names += ['temporal_outputs', 'depth_adapter']
  names += [f'depth_l{i}' for i in range(config.depth_layers)]
  return names + ['depth_final_ln', 'depth_logits']


def batch_from(fx, frames=None):
  t = slice(None, frames)
  return {k: torch.from_numpy(fx[k][t][None]) for k in
          ('style_tokens', 'note_state', 'drum', 'cfg_tokens', 'cfg_drum_token', 'codes')}


def relative(ours, ref):
  ours = np.asarray(ours, np.float64)
  ref = np.asarray(ref, np.float64)
  return float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30))


def replay_samples(capped, fx, config):
  """Official sampling (depthformer._sample_categorical_with_temperature) with the stored
  Gumbel noise, on the level's slice of our capped logits: how many samples agree."""
  agree = 0
  frames = capped.shape[0]
  for t in range(frames):
    for r in range(config.levels):
      lo = config.level_begin(r)
      logits = capped[t, r, lo:lo + config.codebook].astype(np.float32) / np.float32(TEMPERATURE)
      kth = np.sort(logits)[-TOP_K]
      logits = np.where(logits < kth, -np.inf, logits)
      pick = int(np.argmax(logits + fx['gumbel'][t, r]))
      agree += lo + pick == int(fx['depth_samples'][t, r])
  return agree, frames * config.levels


def check_parity(weights, fx, config, dtype, report):
  model = Depthformer(config).load_official(weights).eval().to(dtype)
  trace = {}
  with torch.no_grad():
    capped = model(batch_from(fx), trace=trace)
  worst = 0.0
  print(f'parity with the official JAX fixtures, teacher-forced over {fx["codes"].shape[0]} '
        f'frames in one call ({str(dtype).replace("torch.", "")}):')
  for name in stage_names(config):
    err = relative(trace[name][0].numpy(), fx[name])
    worst = max(worst, err)
    print(f'  {name:32s} {err:.2e}')
  report('stages within 1e-4 relative', worst <= LIMIT, f'worst {worst:.2e}')
  agree, total = replay_samples(capped[0].double().numpy(), fx, config)
  report('Gumbel replay reproduces every sample', agree == total, f'{agree}/{total}')
  return model, trace


def check_causality(model, fx, full_trace):
  frames = 37
  trace = {}
  with torch.no_grad():
    model(batch_from(fx, frames), trace=trace)
  err = max(relative(trace[k][0].numpy(), full_trace[k][0, :frames].numpy())
            for k in ('temporal_outputs', 'depth_logits'))
  return err  # a leak from later frames would be O(1), rounding is ~1e-7


def names_list(path):
  out = {}
  for line in path.read_text().splitlines():
    if line.startswith('#') or not line.strip():
      continue
    name, dims = line.split('\t')[:2]
    if name.startswith(DF):
      out[name] = tuple(int(d) for d in dims.split('x')) if dims else ()
  return out


def check_layout(weights, report):
  official = {k: v for k, v in weights.items() if k.startswith(DF)}
  model = Depthformer(config_from_official(weights, 6, 4)).load_official(weights)
  back = model.to_official()
  same = back.keys() == official.keys() and all(
      back[k].shape == official[k].shape and np.array_equal(back[k], official[k]) for k in back)
  report('to_official() == tiny.safetensors (bit exact, same names)', same,
         f'{len(back)} tensors')
  with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / 'depthformer.safetensors'
    checkpoint.save(path, back)
    again = Depthformer(model.config).load_official(checkpoint.load(path)).to_official()
  report('checkpoint.save -> load -> load_official round trip',
         all(np.array_equal(again[k], back[k]) for k in back))
  manifest = DepthformerConfig.from_manifest(TINY / 'package')
  report('config from the shapes == tiny/package/model.toml [architecture]',
         manifest.architecture() == model.config.architecture())
  for preset in ('small', 'base'):
    config = getattr(DepthformerConfig, f'mrt2_{preset}')()
    with torch.device('meta'):
      meta = Depthformer(config)
    params = dict(meta.named_parameters())
    ours = {path: tuple(params[name].shape) for name, path in meta.official_names()}
    expected = names_list(NAMES / f'names_mrt2_{preset}.txt')
    report(f'mrt2_{preset} config: names and shapes == names_mrt2_{preset}.txt',
           ours == expected, f'{len(ours)} tensors, '
           f'{sum(int(np.prod(s)) for s in ours.values()):,} parameters')
  # A trained checkpoint goes through tools/convert_mrt2.py (windows given, as for any
  # non-preset model) into a package whose [architecture] is this config.
  config = DepthformerConfig(codebook=16, vocab=198, style_vocab=39, style_dims=16,
                             encoder_dims=40, temporal_layers=3, temporal_dims=96,
                             temporal_ffn=160, temporal_heads=2, temporal_head_dims=48,
                             depth_layers=1, depth_dims=64, depth_ffn=80, depth_heads=2,
                             depth_head_dims=32, temporal_self_horizon=10,
                             temporal_cross_horizon=8)
  codec = {k: v for k, v in weights.items() if not k.startswith(DF)}
  with tempfile.TemporaryDirectory() as tmp:
    checkpoint.save(Path(tmp) / 'ckpt.safetensors', {**Depthformer(config).to_official(), **codec})
    run = subprocess.run([sys.executable, str(ROOT / 'tools/convert_mrt2.py'),
                          str(Path(tmp) / 'ckpt.safetensors'), str(Path(tmp) / 'pkg'),
                          '--horizons', '10,8'], capture_output=True, text=True)
    converted = (run.returncode == 0 and DepthformerConfig.from_manifest(Path(tmp) / 'pkg')
                 .architecture() == config.architecture())
  report('tools/convert_mrt2.py packages a checkpoint of another size; [architecture] == config',
         converted, run.stderr.strip()[-300:] if run.returncode else '')
  broken = dict(official)
  broken.pop(next(iter(broken)))
  try:
    Depthformer(model.config).load_official(broken)
    refused = False
  except ConfigError:
    refused = True
  report('load_official refuses a checkpoint with a missing tensor', refused)
  try:
    DepthformerConfig(temporal_heads=7).validate()
    refused = False
  except ConfigError as e:
    refused = 'temporal_heads' in str(e)
  report('validate() refuses heads x head_dims != dims', refused)


def check_training(weights, fx, report):
  torch.manual_seed(0)
  model = Depthformer(config_from_official(weights, 6, 4, token_dropout=0.999,
                                           token_dropout_unit='clip'))
  model.load_official(weights).train()
  b = batch_from(fx)
  style = b['style_tokens'].long()
  regular = torch.cat([b['note_state'], b['drum'], b['cfg_tokens'], b['cfg_drum_token']], -1)
  s2, r2 = model.drop_tokens(style, regular.long())
  report('token dropout masks style, notes and drum, never CFG',
         bool((s2 == -1).all() and (r2[..., :129] == -1).all()
              and torch.equal(r2[..., 129:], regular[..., 129:].long())))
  model.config.token_dropout = 0.15
  for unit in ('frame', 'span'):
    model.config.token_dropout_unit = unit
    s3, _ = model.drop_tokens(style.expand(64, -1, -1), regular.long().expand(64, -1, -1))
    dropped = float((s3 == -1).all(-1).float().mean() - (style == -1).all(-1).float().mean())
    report(f'token dropout unit {unit!r} drops a plausible share of frames',
           0.0 < dropped < 0.3, f'{dropped:.3f} of frames')
  loss = model.loss(b)
  loss.backward()
  missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
  report('loss() back-propagates into every parameter', torch.isfinite(loss).item()
         and not missing, f'loss {loss.item():.3f}' + (f', no grad: {missing}' if missing else ''))
  model.eval()
  with torch.no_grad():
    full = model(b)[0].numpy()
    sliced = model(b, full_vocab=False)[0].numpy()
    lo = model.config.reserved_tokens
    err = relative(sliced.reshape(sliced.shape[0], -1),
                   full[:, :, lo:].reshape(full.shape[0], 12, 12, -1)[:, np.arange(12),
                                                                      np.arange(12)]
                   .reshape(full.shape[0], -1))
    level_loss, full_loss = model.loss(b, full_vocab=False).item(), model.loss(b).item()
  report('full_vocab=False logits == each level\'s slice of the full logits', err <= 1e-6,
         f'{err:.1e}')
  report('level-softmax loss <= full-vocabulary loss', level_loss <= full_loss,
         f'{level_loss:.3f} <= {full_loss:.3f}')
  fresh = Depthformer(model.config)
  loss = fresh.loss(b).item()
  report('a freshly initialised model starts near ln(vocab)', abs(loss - np.log(198)) < 1.5,
         f'{loss:.2f} vs ln 198 = {np.log(198):.2f}')


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  ap.add_argument('--float64', action='store_true', help='also run the parity in float64')
  args = ap.parse_args(argv)
  torch.set_num_threads(1)
  failures = []

  def report(what, ok, detail=''):
    print(f'  {"ok  " if ok else "FAIL"} {what}' + (f' ({detail})' if detail else ''))
    if not ok:
      failures.append(what)

  weights = checkpoint.load(TINY / 'tiny.safetensors')
  fx = checkpoint.load(TINY / 'fixtures.safetensors')
  config = DepthformerConfig.from_manifest(TINY / 'package')
  sos = np.full((1, 12), config.sos_id)
  report('fixture prev_tokens == SOS frame + depth_samples shifted',
         np.array_equal(fx['prev_tokens'], np.concatenate([sos, fx['depth_samples'][:-1]])))
  model, trace = check_parity(weights, fx, config, torch.float32, report)
  err = check_causality(model, fx, trace)
  report('causal: 37-frame prefix == first 37 frames of the full run', err <= 1e-5,
         f'{err:.1e}')
  if args.float64:
    check_parity(weights, fx, config, torch.float64, report)
  print('official layout:')
  check_layout(weights, report)
  print('training path:')
  check_training(weights, fx, report)
  if failures:
    print(f'FAILED: {len(failures)} check(s)')
    return 1
  print('all checks passed')
  return 0


if __name__ == '__main__':
  sys.exit(main())
