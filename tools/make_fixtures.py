#!/usr/bin/env python3
"""Reference fixtures for the C++ Magenta RealTime 2 runtime, produced by the
OFFICIAL JAX code (PyPI `magenta-rt` 2.0.3, magenta_rt/jax/*) with random weights.

Run inside the reference venv (tools/reference_env.sh):

  .venv-ref/bin/python tools/make_fixtures.py names   # tests/fixtures/mrt2/names_*.txt
  .venv-ref/bin/python tools/make_fixtures.py tiny    # tests/fixtures/mrt2/tiny/*
  .venv-ref/bin/python tools/make_fixtures.py all
  .venv-ref/bin/python tools/make_fixtures.py encoder # tests/fixtures/mrt2/tiny_encoder/*
  .venv-ref/bin/python tools/make_fixtures.py audio-float  # tests/fixtures/mrt2/tiny/audio_float.*

Nothing here copies official code: it imports the package and calls it.

`names`: parameter path / shape / dtype lists of the REAL mrt2_small and
mrt2_base checkpoints (jax.eval_shape of the official init; no weights are
materialised), plus the SpectroStream encoder / decoder / quantizer.

`tiny`: a tiny random-weight configuration built from the official classes
(subclass of magenta_rt.jax.model.MagentaRT2ModelBase and a tiny
spectrostream.SpectroStream.Config), run in fp32 streaming one frame at a time
through the official MagentaRT2Sampler.step_with_emits (the exact path
magenta_rt.jax.system.MagentaRT2System.generate uses), for N frames with
per-frame varying conditioning.  Saves weights in the official raw-checkpoint
layout ('/'-joined flax paths, 'params/depthformer/...', 'params/soundstream/...'),
the config, all inputs, intermediates, logits, samples, the Gumbel noise used
for every draw, and the decoded audio.  See docs/mrt2-reference.md.

`audio-float`: the tiny fixture's stored codes re-decoded by the same sampler's
SpectroStream layers (codes -> embeddings -> decoder -> inverse STFT) with the
weights of tiny.safetensors; saves the float audio before the int16 conversion
and checks that converting it gives the stored audio_int16 exactly.
"""

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'tests' / 'fixtures' / 'mrt2'


def _imports():
  import jax  # noqa: F401
  jax.config.update('jax_platforms', 'cpu')
  import magenta_rt  # noqa: F401  (activates the vendored sequence_layers)
  return jax


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

def _flatten(tree):
  import flax.linen as nn
  import flax.traverse_util as ftu
  tree = nn.unbox(tree)
  return ftu.flatten_dict(tree, sep='/')


def _sampler_init_fn(num_channels, temperature=1.0, top_k=40):
  import jax
  import jax.numpy as jnp
  import sequence_layers.jax as sl

  spec = jax.ShapeDtypeStruct([num_channels], jnp.int32)
  consts = {'temperature': jnp.array([temperature], jnp.float32),
            'top_k': jnp.array([top_k], jnp.int32)}

  def f(m):
    st = m.get_initial_state(1, spec, training=False, constants={})
    x = sl.Sequence.from_values(jnp.full((1, 1, num_channels), 7, jnp.int32))
    return m.step(x, st, training=False, constants=consts)

  return f


def _write_names(path, flat, header):
  total = 0
  with open(path, 'w') as fh:
    for line in header:
      fh.write(f'# {line}\n')
    for k in sorted(flat):
      v = flat[k]
      total += int(np.prod(v.shape))
      fh.write(f"{k}\t{'x'.join(str(d) for d in v.shape) or 'scalar'}\t{np.dtype(v.dtype).name}\n")
    fh.write(f'# total {len(flat)} tensors, {total} elements\n')
  print(f'wrote {path.relative_to(ROOT)}: {len(flat)} tensors, {total:,} elements')


def cmd_names(args):
  jax = _imports()
  import jax.numpy as jnp
  import sequence_layers.jax as sl
  from magenta_rt.jax import model, system, spectrostream

  OUT.mkdir(parents=True, exist_ok=True)
  rngs = {'params': jax.random.PRNGKey(0), 'random': jax.random.PRNGKey(0)}
  for name in ('mrt2_small', 'mrt2_base'):
    exp = model.get_model_class(name)()
    dcfg = exp.depthformer_config()
    sscfg = spectrostream.stft_spectrostream_40ms_generic_48khz_stereo_config(
        rvq_truncation_level=exp.spectrostream.rvq_truncation_level,
        use_unique_codes=False)
    sampler = system.MagentaRT2Sampler.Config(
        depthformer=dcfg, spectrostream=sscfg).make()
    f = _sampler_init_fn(exp.input_num_channels)
    shapes = jax.eval_shape(lambda: sampler.init(rngs, method=f))
    flat = _flatten(shapes)
    header = [
        f'Parameters of the official {name} raw checkpoint ({name}.safetensors),',
        'from jax.eval_shape of magenta_rt.jax.system.MagentaRT2Sampler.init (magenta-rt 2.0.3)',
        'with model.get_model_class(name)().depthformer_config() and',
        'spectrostream.stft_spectrostream_40ms_generic_48khz_stereo_config(rvq_truncation_level=12).',
        'Key = "/".join(flax path) exactly as in the official safetensors files.',
        'Columns: path<TAB>shape (x-separated)<TAB>dtype (param dtype; the checkpoint may store another)',
    ]
    _write_names(OUT / f'names_{name}.txt', flat, header)

  # SpectroStream as a standalone module (encoder.safetensors holds
  # params/encoder/..., the LM checkpoints hold params/soundstream/{decoder,quantizer}).
  sscfg = spectrostream.stft_spectrostream_40ms_generic_48khz_stereo_config(
      rvq_truncation_level=12, use_unique_codes=False)
  ss = sscfg.make()
  wav = sl.Sequence.from_values(jnp.zeros((1, 4 * 1920, 2), jnp.float32))
  shapes = jax.eval_shape(
      lambda: ss.init(rngs, wav, training=False))
  flat = _flatten(shapes)
  header = [
      'Parameters of the official SpectroStream (48 kHz stereo, 40 ms) module,',
      'from jax.eval_shape of magenta_rt.jax.spectrostream.SpectroStream.init with',
      'stft_spectrostream_40ms_generic_48khz_stereo_config(rvq_truncation_level=12).',
      'params/encoder/* = encoder.safetensors; params/decoder/* and params/quantizer/* appear in the',
      'LM checkpoints as params/soundstream/decoder/* and params/soundstream/quantizer/*.',
      'Columns: path<TAB>shape<TAB>dtype',
  ]
  _write_names(OUT / 'names_spectrostream.txt', flat, header)


# ---------------------------------------------------------------------------
# tiny
# ---------------------------------------------------------------------------

TINY_FRAMES = 104
TINY_TEMPERATURE = 1.3
TINY_TOP_K = 5


def tiny_configs():
  """Returns (exp, depthformer_config, spectrostream_config) of the tiny model."""
  import jax.numpy as jnp
  import sequence_layers.jax as sl
  from magenta_rt import config as C
  from magenta_rt.jax import model, spectrostream

  class TinyModel(model.MagentaRT2ModelBase):
    # encoder_size only sets the encoder width: the official Encoder body is
    # sl.Identity (embeddings + encoder_ln only), exactly like mrt2_small/base.
    encoder_size = C.ModelSpec(num_layers=2, model_dims=32, hidden_dims=64,
                               num_heads=2, dim_per_head=16,
                               ffn_use_gated_activation=False)
    decoder_temporal_size = C.ModelSpec(num_layers=2, model_dims=64,
                                        hidden_dims=128, num_heads=4,
                                        dim_per_head=16,
                                        ffn_use_gated_activation=False)
    decoder_depth_size = C.ModelSpec(num_layers=2, model_dims=48,
                                     hidden_dims=96, num_heads=3,
                                     dim_per_head=16,
                                     ffn_use_gated_activation=False)
    encoder_max_past_horizon = 5  # unused (no encoder attention)
    decoder_temporal_self_attention_max_past_horizon = 6
    decoder_temporal_cross_attention_max_past_horizon = 4
    compute_dtype = jnp.float32
    # 12 RVQ levels as in the real model, but 16 codes per level (real: 1024).
    spectrostream = dataclasses.replace(C.SPECTROSTREAM, codebook_size=16)

    @property
    def input_configs(self):
      # MusicCoCa: 12 levels as real, 32 codes (real 1024), 16-d dequantizer
      # (real 768).  Notes / drums / CFG token configs are the real ones.
      base = super().input_configs
      return (dataclasses.replace(C.MUSICCOCA, codebook_size=32,
                                  embedding_size=16),) + tuple(base[1:])

  exp = TinyModel()
  dcfg = exp.depthformer_config()
  sscfg = spectrostream.SpectroStream.Config(
      audio_sample_rate=3200.0,
      stft_frame_length=64, stft_frame_step=32, stft_fft_length=64,
      ratios=((1, 2), (2, 2)), mults=(2, 1), dilations=None, is_resnet=True,
      activation=sl.Elu.Config(), causal=True,
      num_bins=32, num_channels=4, channel_splits=2, channel_recombo_block=-2,
      num_features=8,
      encoder_base_conv_depth=4, encoder_base_conv_size=3, encoder_lookahead=0,
      decoder_base_conv_depth=4, decoder_base_conv_size=3, decoder_lookahead=1,
      quantizer=spectrostream.ResidualVectorQuantizer.Config(
          num_quantizers=12, truncation_level=12, num_embeddings=16,
          embedding_dim=8, use_unique_codes=False, beta=1.0,
          dynamic_masking=True, target_num_quantizers=(12,),
          full_quantizer_dropout_rate=0.0, full_quantizer_commitment=False),
  )
  return exp, dcfg, sscfg


def tiny_sampler():
  """Returns (exp, depthformer_config, spectrostream_config, sampler): the official
  MagentaRT2Sampler of the tiny model, the module `tiny` runs (and whose params tiny.safetensors
  holds) and whose SpectroStream decoding path `audio-float` steps on its own."""
  from magenta_rt.jax import system
  exp, dcfg, sscfg = tiny_configs()
  sampler = system.MagentaRT2Sampler.Config(depthformer=dcfg, spectrostream=sscfg).make()
  return exp, dcfg, sscfg, sampler


def sampler_decode_layers(m):
  """Inside a MagentaRT2Sampler.apply: the sampler's own layers after the depthformer and the
  unique-code conversion, i.e. (quantizer.codes_to_embeddings_layer,
  soundstream.embeddings_to_waveform_layer (decoder -> inverse STFT), int16 conversion), the
  exact objects step_with_emits runs."""
  layers = tuple(m.layers[2:])
  assert len(layers) == 3, len(m.layers)
  assert layers[0] is m.soundstream.quantizer.codes_to_embeddings_layer
  assert layers[1] is m.soundstream.embeddings_to_waveform_layer
  return layers


def _tiny_config_json(exp, sscfg, frames):
  def spec(s):
    return dataclasses.asdict(s)

  def tok(c):
    d = dataclasses.asdict(c)
    d['vocab_size'] = c.vocab_size
    d['per_rvq_vocab_size'] = c.per_rvq_vocab_size
    return d

  q = sscfg.quantizer
  return {
      'description': 'Tiny random-weight MRT2 Depthformer + SpectroStream decoder built '
                     'from the official magenta-rt 2.0.3 JAX classes (tools/make_fixtures.py).',
      'official_package': 'magenta-rt==2.0.3',
      'encoder_size': spec(exp.encoder_size),
      'encoder_note': 'Encoder body is sl.Identity: embeddings -> encoder_ln only; '
                      'encoder_size.model_dims is the only field used.',
      'decoder_temporal_size': spec(exp.decoder_temporal_size),
      'decoder_depth_size': spec(exp.decoder_depth_size),
      'decoder_temporal_self_attention_max_past_horizon':
          exp.decoder_temporal_self_attention_max_past_horizon,
      'decoder_temporal_cross_attention_max_past_horizon':
          exp.decoder_temporal_cross_attention_max_past_horizon,
      'depth_self_attention_max_past_horizon': exp.spectrostream.rvq_truncation_level,
      'num_attention_sink_embeddings': exp.num_attention_sink_embeddings,
      'use_rope': exp.use_rope,
      'compute_dtype': 'float32',
      'param_dtype': 'float32',
      'soft_cap_logits': 30.0,
      'sos_id': 0,
      'num_reserved_tokens': exp.target_tokens_config.num_extra_tokens,
      'conditioning_token_offset': 7,
      'target_tokens': tok(exp.target_tokens_config),
      'input_configs': [tok(c) for c in exp.input_configs],
      'input_num_channels': exp.input_num_channels,
      'temperature': TINY_TEMPERATURE,
      'top_k': TINY_TOP_K,
      'frames': frames,
      'prng': {'params': 'jax.random.PRNGKey(1)', 'random': 'jax.random.PRNGKey(0)'},
      'spectrostream': {
          'audio_sample_rate': sscfg.audio_sample_rate,
          'stft_frame_length': sscfg.stft_frame_length,
          'stft_frame_step': sscfg.stft_frame_step,
          'stft_fft_length': sscfg.stft_fft_length,
          'ratios': [list(r) for r in sscfg.ratios],
          'mults': list(sscfg.mults),
          'is_resnet': sscfg.is_resnet,
          'activation': 'elu',
          'causal': sscfg.causal,
          'num_bins': sscfg.num_bins,
          'num_channels': sscfg.num_channels,
          'channel_splits': sscfg.channel_splits,
          'channel_recombo_block': sscfg.channel_recombo_block,
          'num_features': sscfg.num_features,
          'decoder_base_conv_depth': sscfg.decoder_base_conv_depth,
          'decoder_base_conv_size': sscfg.decoder_base_conv_size,
          'decoder_lookahead': sscfg.decoder_lookahead,
          'quantizer': {'num_quantizers': q.num_quantizers,
                        'num_embeddings': q.num_embeddings,
                        'embedding_dim': q.embedding_dim,
                        'truncation_level': q.truncation_level,
                        'use_unique_codes': q.use_unique_codes},
          'samples_per_frame': sscfg.waveform_to_codes_ratio,
          'output_channels': 2,
      },
  }


def _make_inputs(exp, frames, seed=1234):
  """Per-frame raw conditioning values (before the +7 offset)."""
  rng = np.random.default_rng(seed)
  cfgs = exp.input_configs
  mc, notes, drum, cfg2, cfgd = cfgs
  T = frames
  style = np.zeros((T, mc.rvq_truncation_level), np.int32)
  cur = rng.integers(0, mc.codebook_size, mc.rvq_truncation_level)
  for t in range(T):
    if t % 24 == 0 and t > 0:
      cur = rng.integers(0, mc.codebook_size, mc.rvq_truncation_level)
    style[t] = cur
  style[40:48] = -1  # fully masked style for a while
  style[70:80, 6:] = -1  # masked fine levels
  note = np.zeros((T, notes.rvq_truncation_level), np.int32)
  held = np.zeros(notes.rvq_truncation_level, bool)
  for t in range(T):
    on = rng.random(notes.rvq_truncation_level) < 0.03
    off = rng.random(notes.rvq_truncation_level) < 0.15
    onset = on & ~held
    held = (held & ~off) | on
    note[t] = np.where(onset, 2, np.where(held, 1, 0))
    if t % 10 == 5:
      note[t, 60] = 3
  note[90:100] = -1  # notes masked
  drums = np.where(np.arange(T) % 30 < 10, 1, 0).astype(np.int32)[:, None]
  drums[100:110] = -1
  cfg_tok = np.stack([
      (np.arange(T) // 8) % cfg2.codebook_size,
      (np.arange(T) // 5 * 7) % cfg2.codebook_size,
  ], axis=1).astype(np.int32)
  cfg_drum = ((np.arange(T) // 16) % cfgd.codebook_size).astype(np.int32)[:, None]
  return {'style_tokens': style, 'note_state': note, 'drum': drums,
          'cfg_tokens': cfg_tok, 'cfg_drum_token': cfg_drum}


# Module paths (relative to the sampler) whose step outputs are captured.
def _capture_paths(exp):
  P = {}
  P['enc_mulan_branch'] = 'depthformer/encoder/body/layers_1/branched_mulan_embedder/mulan_embedder/depth_input_adapter'
  P['enc_mulan_dequant'] = 'depthformer/encoder/body/layers_1/branched_mulan_embedder/mulan_embedder/mulan_dequantizer'
  P['enc_regular_branch'] = 'depthformer/encoder/body/layers_1/branched_regular_embedder/regular_embedder'
  P['enc_embedding'] = 'depthformer/encoder/body/layers_1'
  P['enc_output'] = 'depthformer/encoder/body/encoder_ln'
  tb = 'depthformer/decoder/temporal_body/transformer'
  for i in range(exp.decoder_temporal_size.num_layers):
    P[f'temporal_l{i}_self_attention'] = f'{tb}/x_layers_{i}/self_attention'
    P[f'temporal_l{i}_cross_attention'] = f'{tb}/x_layers_{i}/cross_attention'
    P[f'temporal_l{i}_ffn'] = f'{tb}/x_layers_{i}/ffn'
  db = 'depthformer/decoder/depth_body'
  P['depth_adapter'] = f'{db}/depth_input_adapter'
  for i in range(exp.decoder_depth_size.num_layers):
    P[f'depth_l{i}'] = f'{db}/transformer/x_layers_{i}/ffn'  # = layer output
  P['depth_final_ln'] = f'{db}/final_ln'
  return P


def cmd_tiny(args):
  jax = _imports()
  import jax.numpy as jnp
  import flax.linen as nn
  import flax.traverse_util as ftu
  import sequence_layers.jax as sl
  from safetensors.numpy import save_file

  frames = args.frames
  exp, dcfg, sscfg, sampler = tiny_sampler()
  nch = exp.input_num_channels
  spec = jax.ShapeDtypeStruct([nch], jnp.int32)
  consts = {'temperature': jnp.array([TINY_TEMPERATURE], jnp.float32),
            'top_k': jnp.array([TINY_TOP_K], jnp.int32)}
  rngs = {'params': jax.random.PRNGKey(1), 'random': jax.random.PRNGKey(0)}

  t0 = time.time()
  params = nn.unbox(jax.jit(lambda: sampler.init(
      rngs, method=_sampler_init_fn(nch, TINY_TEMPERATURE, TINY_TOP_K)))())
  # The official init of mulan_dequantizer is zeros (it is a pretrained table
  # loaded from the checkpoint); give it random values so the branch is tested.
  k = jax.random.PRNGKey(7)
  flatp = ftu.flatten_dict(params, sep='/')
  for key in list(flatp):
    if key.endswith('mulan_dequantizer/embedding'):
      flatp[key] = jax.random.normal(k, flatp[key].shape, flatp[key].dtype)
    # Sink / per-dim-scale / norm params default to trivial values; perturb
    # them so every parameter influences the fixtures.
    if key.endswith(('per_dim_scale', '/scale', '/bias')) and 'soundstream' not in key:
      k, sub = jax.random.split(k)
      base = 1.0 if key.endswith('/scale') else 0.0
      flatp[key] = base + 0.2 * jax.random.normal(sub, flatp[key].shape, flatp[key].dtype)
  params = ftu.unflatten_dict({tuple(kk.split('/')): v for kk, v in flatp.items()})
  print(f'init {time.time() - t0:.1f}s; {sum(v.size for v in flatp.values()):,} params')

  paths = _capture_paths(exp)
  want = {v: k for k, v in paths.items()}

  def capture_filter(mdl, method_name):
    p = '/'.join(mdl.scope.path)
    return p in want and method_name in ('step', 'step_with_emits')

  @jax.jit
  def init_state(params):
    return sampler.apply(params, 1, spec, constants={}, training=False,
                         rngs=rngs, method=sampler.get_initial_state)

  @jax.jit
  def step(params, xv, state):
    x = sl.Sequence.from_values(xv)
    (y, state, _), inter = sampler.apply(
        params, x=x, state=state, constants=consts, training=False, rngs=rngs,
        method=sampler.step_with_emits, capture_intermediates=capture_filter,
        mutable=['intermediates'])
    return y.values, state, inter['intermediates']

  inputs = _make_inputs(exp, frames)
  raw = np.concatenate([inputs['style_tokens'], inputs['note_state'],
                        inputs['drum'], inputs['cfg_tokens'],
                        inputs['cfg_drum_token']], axis=1)
  assert raw.shape[1] == nch
  cond = (raw + 7).astype(np.int32)  # system.MagentaRT2System._build_conditioning offset

  def dec_state(state):
    # state[0] = StreamingEncoderDecoderSampler state
    #   = (encoder_state, previous_output, decoder_state, delay_countdown)
    # decoder_state = (rng [B,2] uint32, previous_frame, temporal_state, step)
    return state[0][2]

  state = init_state(params)
  V = exp.target_tokens_config.vocab_size
  L = exp.target_tokens_config.rvq_truncation_level
  cb = exp.target_tokens_config.codebook_size
  R = exp.target_tokens_config.num_extra_tokens
  rec = {k: [] for k in ['rng_key', 'prev_tokens', 'gumbel', 'audio_int16',
                         'temporal_inputs', 'temporal_outputs', 'depth_logits',
                         'depth_samples'] + list(paths)}
  t0 = time.time()
  for t in range(frames):
    rng_before, prev_frame, _, step_before = dec_state(state)
    rec['rng_key'].append(np.asarray(jax.random.key_data(rng_before) if jnp.issubdtype(rng_before.dtype, jax.dtypes.prng_key) else rng_before)[0])
    rec['prev_tokens'].append(np.asarray(prev_frame.values)[0, 0])
    y, state, inter = step(params, cond[t].reshape(1, 1, -1), state)
    rec['audio_int16'].append(np.asarray(y)[0])
    d = inter['depthformer']['decoder']
    rec['temporal_inputs'].append(np.asarray(d['temporal_inputs'][0])[0, 0])
    rec['temporal_outputs'].append(np.asarray(d['temporal_outputs'][0])[0, 0])
    rec['depth_logits'].append(np.stack([np.asarray(a)[0, 0] for a in d['depth_logits']]))
    rec['depth_samples'].append(np.array([int(np.asarray(a)[0, 0]) for a in d['depth_samples']]))
    fi = ftu.flatten_dict(inter, sep='/')
    for key, val in fi.items():
      mod = key.rsplit('/', 1)[0]
      if mod in want:
        outs = [o[0].values for o in val]  # (Sequence, state[, emits]) per call
        arr = np.stack([np.asarray(o)[0, 0] for o in outs])
        rec[want[mod]].append(arr[0] if len(outs) == 1 else arr)
    # Reproduce the Gumbel draws of depthformer._sample_categorical_with_temperature:
    # key_r = fold_in^r(rng, step), noise = jax.random.gumbel(key_r, (1,1,V), f32).
    key = rng_before
    g = []
    for r in range(L):
      g.append(np.asarray(jax.random.gumbel(key[0], (1, 1, V), jnp.float32))[0, 0])
      key = jax.vmap(jax.random.fold_in)(key, step_before)
    rec['gumbel'].append(np.stack(g))
  print(f'{frames} frames in {time.time() - t0:.1f}s')

  empty = [k for k, v in rec.items() if not v]
  if empty:
    print('captured:', sorted({kk.rsplit('/', 1)[0] for kk in ftu.flatten_dict(inter, sep='/')}))
    raise SystemExit(f'nothing captured for {empty}')
  A = {k: np.stack(v) for k, v in rec.items()}

  # Self-check: recompute every sample from (logits, gumbel) with the official
  # formula and compare to the model's samples.
  cap = 30.0
  lg = np.tanh(A['depth_logits'].astype(np.float32) / cap) * cap
  ok = 0
  for t in range(frames):
    for r in range(L):
      l = lg[t, r].copy()
      lo, hi = R + r * cb, R + (r + 1) * cb
      neg = np.float32(-0.7) * np.finfo(np.float32).max
      idx = np.arange(V)
      l = np.where((idx >= lo) & (idx < hi), l, neg)
      kth = np.sort(l)[-TINY_TOP_K]
      l = np.where(l >= kth, l, neg)
      s = int(np.argmax(l + A['gumbel'][t, r] * np.float32(TINY_TEMPERATURE)))
      ok += s == A['depth_samples'][t, r]
  print(f'sample reproduction from logits+gumbel: {ok}/{frames * L}')
  if ok != frames * L:
    print('WARNING: not all samples reproduce', file=sys.stderr)

  out = OUT / 'tiny'
  out.mkdir(parents=True, exist_ok=True)
  # Weights in the official raw checkpoint layout.
  weights = {k: np.ascontiguousarray(np.asarray(v, np.float32)) for k, v in
             ftu.flatten_dict(params, sep='/').items()}
  save_file(weights, str(out / 'tiny.safetensors'))

  desc = {
      'style_tokens': 'int32 [T,12] raw MusicCoCa tokens per frame (-1 = masked) before the +7 offset',
      'note_state': 'int32 [T,128] raw note state per pitch (-1 masked, 0 off, 1 held, 2 onset, 3 model decides)',
      'drum': 'int32 [T,1] raw drum token (-1 masked, 0 none, 1 drums)',
      'cfg_tokens': 'int32 [T,2] raw CFG tokens (musiccoca, notes); scale = -1 + 0.2*token',
      'cfg_drum_token': 'int32 [T,1] raw CFG drums token; scale = -1 + 1.0*token',
      'encoder_input': 'int32 [T,C] what the model receives: concat(style, notes, drum, cfg, cfg_drum) + 7',
      'prev_tokens': 'int32 [T,12] decoder input frame (unique codes; frame 0 = SOS id 0 on all levels) = depth_samples shifted by one frame',
      'rng_key': 'uint32 [T,2] decoder PRNG key (raw threefry key data) at the start of the frame',
      'gumbel': 'float32 [T,12,codebook] Gumbel noise of depth step r for unique ids 6+r*codebook+c (c = last index); the official draw is jax.random.gumbel(key_r, (1,1,V)) with key_r = key after r fold_ins of the frame counter, sliced here to the valid range',
      'temporal_inputs': 'float32 [T,Dt] mean over levels of sqrt(Dt)*embedding[prev_tokens]',
      'temporal_outputs': 'float32 [T,Dt] temporal transformer output (no final norm)',
      'depth_logits': 'float32 [T,12,V] to_logits output per depth step BEFORE the tanh soft cap',
      'depth_samples': 'int32 [T,12] sampled unique codes: 6 + level*codebook + code',
      'codes': 'int32 [T,12] per-level codes = (depth_samples - 6) % codebook fed to the SpectroStream quantizer',
      'audio_int16': 'int16 [T,S,2] official output: SpectroStream decoder -> inverse STFT -> round(32767.5*clip(0.5*x,-1,1)-0.5)',
      'enc_mulan_dequant': 'float32 [T,12,E] MusicCoCa dequantizer rows (before the sum over levels)',
      'enc_mulan_branch': 'float32 [T,De] MusicCoCa branch after the dense adapter',
      'enc_regular_branch': 'float32 [T,De] mean of the 132 regular-channel embeddings',
      'enc_embedding': 'float32 [T,De] mean of the two branches (input to encoder_ln)',
      'enc_output': 'float32 [T,De] encoder output = encoder_ln(enc_embedding); cross-attention source',
      'depth_adapter': 'float32 [T,12,Dd] depth_input_adapter output for depth steps 0..11 (step 0 input = temporal output, step r>0 input = sqrt(Dt)*embedding[sample r-1])',
      'depth_final_ln': 'float32 [T,12,Dd] final_ln output per depth step (input of to_logits)',
  }
  for i in range(exp.decoder_temporal_size.num_layers):
    desc[f'temporal_l{i}_self_attention'] = f'float32 [T,Dt] output of temporal layer {i} self-attention residual block (x + post_norm(o_proj(attn(pre_norm(x)))))'
    desc[f'temporal_l{i}_cross_attention'] = f'float32 [T,Dt] output of temporal layer {i} cross-attention residual block'
    desc[f'temporal_l{i}_ffn'] = f'float32 [T,Dt] output of temporal layer {i} FFN residual block (= layer output)'
  for i in range(exp.decoder_depth_size.num_layers):
    desc[f'depth_l{i}'] = f'float32 [T,12,Dd] output of depth transformer layer {i} per depth step'

  A['encoder_input'] = cond
  # Only the valid slice of each depth step's noise matters (everything else is
  # masked to -0.7*FLT_MAX before the argmax); keep that slice to stay small.
  A['gumbel'] = np.stack([A['gumbel'][:, r, R + r * cb:R + (r + 1) * cb]
                          for r in range(L)], axis=1)
  for k in ('style_tokens', 'note_state', 'drum', 'cfg_tokens', 'cfg_drum_token'):
    A[k] = inputs[k]
  A['codes'] = ((A['depth_samples'] - R) % cb).astype(np.int32)
  assert np.array_equal(A['prev_tokens'][1:], A['depth_samples'][:-1])
  A['audio_int16'] = A['audio_int16'].astype(np.int16)
  A['rng_key'] = A['rng_key'].astype(np.uint32)
  for k in list(A):
    if A[k].dtype == np.float64:
      A[k] = A[k].astype(np.float32)
    if A[k].dtype == np.int64:
      A[k] = A[k].astype(np.int32)
  missing = set(desc) - set(A)
  assert not missing, missing
  arrays = {k: np.ascontiguousarray(A[k]) for k in desc}
  save_file(arrays, str(out / 'fixtures.safetensors'))

  cfg = _tiny_config_json(exp, sscfg, frames)
  (out / 'config.json').write_text(json.dumps(cfg, indent=1) + '\n')
  index = {k: {'shape': list(arrays[k].shape), 'dtype': arrays[k].dtype.name,
               'meaning': desc[k]} for k in desc}
  index = {
      'about': 'Arrays in fixtures.safetensors; T = frames, V = target vocab, '
               'Dt/Dd/De = temporal/depth/encoder widths. Produced by '
               'tools/make_fixtures.py tiny with the official magenta-rt 2.0.3 JAX code, fp32.',
      'weights': 'tiny.safetensors: official raw-checkpoint layout, keys "params/depthformer/..." and '
                 '"params/soundstream/..." ("/"-joined flax paths), float32.',
      'sha256': {f: hashlib.sha256((out / f).read_bytes()).hexdigest()
                 for f in ('tiny.safetensors', 'fixtures.safetensors')},
      'arrays': index,
  }
  (out / 'index.json').write_text(json.dumps(index, indent=1) + '\n')
  for f in sorted(out.iterdir()):
    print(f'{f.relative_to(ROOT)}: {f.stat().st_size:,} bytes')


# ---------------------------------------------------------------------------
# audio-float: the tiny fixture's decoded audio before the int16 conversion
# ---------------------------------------------------------------------------

def cmd_audio_float(args):
  """Re-decodes the tiny fixture's stored `codes` with the official SpectroStream decoding path
  of the tiny sampler (the layers step_with_emits runs after the depthformer:
  quantizer.codes_to_embeddings_layer -> embeddings_to_waveform_layer), params from
  tiny.safetensors, fp32, one frame per step from a fresh state, and saves the float waveform
  before the int16 conversion. Checks that the sampler's own int16 layer on it gives the stored
  audio_int16 bit for bit (and the numpy formula too)."""
  jax = _imports()
  import jax.numpy as jnp
  import flax.traverse_util as ftu
  import sequence_layers.jax as sl
  from safetensors.numpy import load_file, save_file
  from magenta_rt.jax import system

  d = OUT / 'tiny'
  exp, _, sscfg, sampler = tiny_sampler()
  flat = load_file(str(d / 'tiny.safetensors'))
  params = ftu.unflatten_dict({tuple(k.split('/')): jnp.asarray(v) for k, v in flat.items()})
  A = load_file(str(d / 'fixtures.safetensors'))
  codes, want = A['codes'], A['audio_int16']
  cb = sscfg.quantizer.num_embeddings
  R = exp.target_tokens_config.num_extra_tokens
  unique = np.asarray(system.convert_from_unique_codes(jnp.asarray(A['depth_samples']), cb))
  assert np.array_equal(unique, codes) and np.array_equal((A['depth_samples'] - R) % cb, codes)
  frames, levels = codes.shape
  spec = sl.ShapeDType([levels], jnp.int32)

  def init(m):
    q, w, i16 = sampler_decode_layers(m)
    s_q = q.get_initial_state(1, spec, training=False)
    spec_w = q.get_output_spec(spec)
    s_w = w.get_initial_state(1, spec_w, training=False)
    s_i = i16.get_initial_state(1, w.get_output_spec(spec_w), training=False)
    return s_q, s_w, s_i

  def step(m, c, st):
    q, w, i16 = sampler_decode_layers(m)
    x = sl.Sequence.from_values(c)
    e, s_q = q.step(x, st[0], training=False)
    y, s_w = w.step(e, st[1], training=False)
    z, s_i = i16.step(y, st[2], training=False)
    return (y.values, y.mask, z.values), (s_q, s_w, s_i)

  init_j = jax.jit(lambda p: sampler.apply(p, method=init))
  step_j = jax.jit(lambda p, c, s: sampler.apply(p, c, s, method=step))
  st = init_j(params)
  audio, valid, i16 = [], [], []
  t0 = time.time()
  for t in range(frames):
    (y, mask, z), st = step_j(params, jnp.asarray(codes[t].reshape(1, 1, levels), jnp.int32), st)
    audio.append(np.asarray(y, np.float32)[0])
    valid.append(np.asarray(mask)[0])
    i16.append(np.asarray(z)[0])
  print(f'{frames} frames in {time.time() - t0:.1f}s')
  audio, valid, i16 = np.stack(audio), np.stack(valid), np.stack(i16)
  if audio.shape != want.shape or audio.dtype != np.float32:
    raise SystemExit(f'audio-float: shape {audio.shape} {audio.dtype}, audio_int16 is {want.shape}')

  # Self-check 1: the sampler's own int16 layer (system._float_samples_to_int16) on this stream.
  bad_layer = int(np.sum(i16.astype(np.int16) != want))
  # Self-check 2: the official formula in numpy on the saved float32 array alone.
  x = np.clip(np.float32(0.5) * audio, np.float32(-1), np.float32(1))
  conv = np.round(np.float32(32767.5) * x - np.float32(0.5)).astype(np.int16)
  bad_np = int(np.sum(conv != want))
  print(f'int16 of the float stream vs stored audio_int16: {bad_layer} (sampler layer), '
        f'{bad_np} (numpy formula) of {want.size} samples differ')
  if bad_layer or bad_np:
    raise SystemExit('audio-float: the float stream does not reproduce audio_int16; '
                     'is tiny.safetensors / fixtures.safetensors from the same `tiny` run?')
  # Distance to the nearest int16 rounding boundary, in LSB (how much float error the stored
  # int16 can hide: a sample this close to .5 may round either way).
  v = np.float64(32767.5) * np.clip(0.5 * audio.astype(np.float64), -1, 1) - 0.5
  frac = np.abs(v - np.floor(v) - 0.5)[audio != 0]  # x = 0 sits on a boundary (-0.5 -> -0)
  peak = float(np.max(np.abs(audio)))
  invalid = np.flatnonzero(~valid.reshape(frames, -1).all(axis=1))
  if np.any(audio[invalid] != 0):
    raise SystemExit(f'audio-float: invalid frames {invalid} are not silent')
  print(f'peak |x| {peak:.6g}, invalid (silent) frames {invalid.tolist()}, '
        f'nearest rounding boundary of a nonzero sample {frac.min():.3g} LSB')

  arrays = {'audio_float': np.ascontiguousarray(audio)}
  save_file(arrays, str(d / 'audio_float.safetensors'))
  meta = {
      'about': 'tools/make_fixtures.py audio-float: the tiny fixture\'s `codes` re-decoded in fp32 by '
               'the official magenta-rt 2.0.3 SpectroStream decoding path of the tiny '
               'MagentaRT2Sampler (quantizer.codes_to_embeddings_layer -> embeddings_to_waveform_layer '
               '= decoder -> inverse STFT), params from tiny.safetensors, streamed one frame per step '
               'from a fresh state; the float signal before the int16 conversion.',
      'check': 'the official int16 conversion round(32767.5*clip(0.5*x,-1,1)-0.5) of audio_float '
               '(the sampler\'s own layer and numpy) equals fixtures.safetensors audio_int16 exactly',
      'peak_abs': peak,
      'sha256': {'audio_float.safetensors':
                 hashlib.sha256((d / 'audio_float.safetensors').read_bytes()).hexdigest(),
                 'source fixtures.safetensors':
                 hashlib.sha256((d / 'fixtures.safetensors').read_bytes()).hexdigest(),
                 'source tiny.safetensors':
                 hashlib.sha256((d / 'tiny.safetensors').read_bytes()).hexdigest()},
      'arrays': {'audio_float': {
          'shape': list(audio.shape), 'dtype': 'float32',
          'meaning': 'float32 [T,S,2] SpectroStream output x per frame (S = samples per frame, '
                     'stereo), before the int16 conversion; frame 0 is the decoder lookahead '
                     '(exact zeros)'}},
  }
  (d / 'audio_float.json').write_text(json.dumps(meta, indent=1) + '\n')
  for f in ('audio_float.safetensors', 'audio_float.json'):
    print(f'{(d / f).relative_to(ROOT)}: {(d / f).stat().st_size:,} bytes')


# ---------------------------------------------------------------------------
# encoder: the tiny SpectroStream encoder + quantizer, streaming
# ---------------------------------------------------------------------------

ENCODER_FRAMES = 40        # token frames of the test signal
ENCODER_SILENT_FROM = 26   # frames ENCODER_SILENT_FROM.. are exact digital silence
ENCODER_SILENCE_FRAMES = 15  # frames of the separate all-silence run (middle = 7)


def _encoder_signal(samples, rate, seed=4321):
  """Stereo test signal: a few sines + noise, then exact digital silence."""
  t = np.arange(samples) / rate
  rng = np.random.default_rng(seed)
  left = 0.4 * np.sin(2 * np.pi * 220.0 * t) + 0.2 * np.sin(2 * np.pi * 710.0 * t + 0.3)
  right = 0.3 * np.sin(2 * np.pi * 330.0 * t) + 0.25 * np.sin(2 * np.pi * 1130.0 * t)
  x = np.stack([left, right], axis=1) + 0.05 * rng.standard_normal((samples, 2))
  return x.astype(np.float32)


def cmd_encoder(args):
  """Tiny SpectroStream encoder + quantizer (the tiny decoder's SpectroStream config, own
  random weights), run in fp32 through the official streaming step one token frame at a time:
  SpectroStream.stft.step -> encoder.step -> quantizer.embeddings_to_codes_layer.step, the
  three layers of SpectroStream.waveform_to_codes_layer (an sl.SerialModules)."""
  jax = _imports()
  import jax.numpy as jnp
  import flax.linen as nn
  import flax.traverse_util as ftu
  import sequence_layers.jax as sl
  from safetensors.numpy import save_file

  _, _, sscfg = tiny_configs()
  ss = sscfg.make()
  frame = sscfg.waveform_to_codes_ratio  # samples per token frame and channel
  frames = ENCODER_FRAMES
  wav = sl.Sequence.from_values(jnp.zeros((1, 4 * frame, 2), jnp.float32))
  params = nn.unbox(jax.jit(lambda: ss.init({'params': jax.random.PRNGKey(11)}, wav,
                                            training=False))())['params']
  flat = ftu.flatten_dict(params, sep='/')
  # The official init leaves biases at zero; random biases make the streaming padding
  # (zeros at every conv input, masked frames) observable. The codebooks shrink per level
  # like a trained RVQ's, so every level's choice depends on the residual.
  k = jax.random.PRNGKey(12)
  for key in sorted(flat):
    k, sub = jax.random.split(k)
    if key.endswith('/bias'):
      flat[key] = 0.1 * jax.random.normal(sub, flat[key].shape, jnp.float32)
    if key == 'quantizer/embedding':
      scale = 0.6 * 0.75 ** jnp.arange(flat[key].shape[0], dtype=jnp.float32)
      flat[key] = scale[:, None, None] * jax.random.normal(sub, flat[key].shape, jnp.float32)
  params = {'params': ftu.unflatten_dict({tuple(kk.split('/')): v for kk, v in flat.items()})}

  spec = sl.ShapeDType([2], jnp.float32)

  def init(m):
    return (m.stft.get_initial_state(1, spec, training=False),
            m.encoder.get_initial_state(1, m.stft.get_output_spec(spec), training=False))

  def step(m, x, st):
    y1, s1 = m.stft.step(x, st[0], training=False)
    y2, s2 = m.encoder.step(y1, st[1], training=False)
    c, _ = m.quantizer.embeddings_to_codes_layer.step(y2, (), training=False)
    return (y1, y2, c), (s1, s2)

  init_j = jax.jit(lambda p: ss.apply(p, method=init))
  step_j = jax.jit(lambda p, x, s: ss.apply(p, sl.Sequence.from_values(x), s, method=step))

  def run(audio):
    st = init_j(params)
    rec = {k_: [] for k_ in ('stft', 'stft_valid', 'embeddings', 'embeddings_valid', 'codes')}
    for t in range(audio.shape[0] // frame):
      (y1, y2, c), st = step_j(params, jnp.asarray(audio[None, t * frame:(t + 1) * frame]), st)
      rec['stft'].append(np.asarray(y1.values)[0])
      rec['stft_valid'].append(np.asarray(y1.mask)[0])
      rec['embeddings'].append(np.asarray(y2.values)[0, 0])
      rec['embeddings_valid'].append(np.asarray(y2.mask)[0, 0])
      rec['codes'].append(np.asarray(c.values)[0, 0])
    return {k_: np.concatenate(v) if k_.startswith('stft') else np.stack(v)
            for k_, v in rec.items()}

  audio = _encoder_signal(frames * frame, sscfg.audio_sample_rate)
  audio[ENCODER_SILENT_FROM * frame:] = 0.0
  t0 = time.time()
  A = run(audio)
  print(f'{frames} frames in {time.time() - t0:.1f}s')
  silence = run(np.zeros((ENCODER_SILENCE_FRAMES * frame, 2), np.float32))

  # Margin of every nearest-codeword choice: the official score -2 x.c + |c|^2 in float64
  # on the float32 residual, second best minus best (how far from a tie each code is).
  table = np.asarray(flat['quantizer/embedding'], np.float64)
  levels = A['codes'].shape[1]
  margin = np.zeros((frames, levels), np.float32)
  for t in range(frames):
    r = A['embeddings'][t].astype(np.float32)
    for lvl in range(levels):
      score = -2 * table[lvl] @ r.astype(np.float64) + np.sum(table[lvl] ** 2, axis=1)
      best = np.sort(score)
      margin[t, lvl] = best[1] - best[0]
      q = table[lvl, A['codes'][t, lvl]].astype(np.float32)
      r = r - (r + (q - r))
  print(f'smallest code margin {margin[1:].min():.3g}')

  out = OUT / 'tiny_encoder'
  out.mkdir(parents=True, exist_ok=True)
  weights = {k_: np.ascontiguousarray(np.asarray(v, np.float32)) for k_, v in flat.items()}
  save_file({f'params/{k_}': v for k_, v in weights.items()}, str(out / 'spectrostream.safetensors'))
  arrays = {
      'audio': audio,
      'stft': A['stft'].astype(np.float32),
      'stft_valid': A['stft_valid'].astype(np.int32),
      'embeddings': A['embeddings'].astype(np.float32),
      'embeddings_valid': A['embeddings_valid'].astype(np.int32),
      'codes': A['codes'].astype(np.int32),
      'code_margin': margin,
      'silence_codes': silence['codes'].astype(np.int32),
  }
  desc = {
      'audio': f'float32 [T*{frame},2] input, stereo at {sscfg.audio_sample_rate:g} Hz; token frames '
               f'{ENCODER_SILENT_FROM}.. are exact zeros',
      'stft': 'float32 [T*stft_frames,bins,4] official streaming STFT output, (L re, L im, R re, R im) '
              'per bin; call t emits stream frames stft_frames*t ..',
      'stft_valid': 'int32 [T*stft_frames] its mask (the first frame after init is invalid padding)',
      'embeddings': 'float32 [T,features] encoder output per call, before quantisation (zeros where invalid)',
      'embeddings_valid': 'int32 [T] its mask (call 0 is invalid: one token frame of latency)',
      'codes': 'int32 [T,levels] quantizer.embeddings_to_codes per call (0 where invalid)',
      'code_margin': 'float32 [T,levels] second-best minus best official score -2x.c+|c|^2 (float64)',
      'silence_codes': f'int32 [{ENCODER_SILENCE_FRAMES},levels] codes of a fresh streaming run over '
                       f'{ENCODER_SILENCE_FRAMES} frames of digital silence',
  }
  save_file({k_: np.ascontiguousarray(v) for k_, v in arrays.items()}, str(out / 'fixtures.safetensors'))
  index = {
      'about': 'tools/make_fixtures.py encoder: tiny official SpectroStream (tiny_configs(), the '
               'tiny decoder fixture\'s config) with its own random weights, fp32, streaming one '
               f'token frame ({frame} samples per channel) per step; magenta-rt 2.0.3.',
      'weights': 'spectrostream.safetensors: params/{encoder,decoder,quantizer}/... (flax paths, float32)',
      'sha256': {f: hashlib.sha256((out / f).read_bytes()).hexdigest()
                 for f in ('spectrostream.safetensors', 'fixtures.safetensors')},
      'smallest_code_margin': float(margin[1:].min()),
      'arrays': {k_: {'shape': list(arrays[k_].shape), 'dtype': arrays[k_].dtype.name,
                      'meaning': desc[k_]} for k_ in desc},
  }
  (out / 'index.json').write_text(json.dumps(index, indent=1) + '\n')
  for f in sorted(out.iterdir()):
    if f.is_file():
      print(f'{f.relative_to(ROOT)}: {f.stat().st_size:,} bytes')


# ---------------------------------------------------------------------------
# verify: independent NumPy re-implementation of docs/mrt2-reference.md
# ---------------------------------------------------------------------------

def cmd_verify(args):
  """Recomputes the tiny fixtures from tiny.safetensors with plain NumPy,
  following docs/mrt2-reference.md (not the official code), teacher-forced
  with the stored samples; reports the max abs error of each stage."""
  from safetensors.numpy import load_file
  d = OUT / 'tiny'
  cfg = json.loads((d / 'config.json').read_text())
  W = load_file(str(d / 'tiny.safetensors'))
  A = load_file(str(d / 'fixtures.safetensors'))
  P = 'params/depthformer/'
  g = lambda k: W[P + k].astype(np.float64)
  T = A['encoder_input'].shape[0]
  tok = cfg['target_tokens']
  L, cb, R, V = tok['rvq_truncation_level'], tok['codebook_size'], cfg['num_reserved_tokens'], tok['vocab_size']
  Dt = cfg['decoder_temporal_size']['model_dims']
  ts, ds = cfg['decoder_temporal_size'], cfg['decoder_depth_size']
  Ws, Wc, Wd = (cfg['decoder_temporal_self_attention_max_past_horizon'],
                cfg['decoder_temporal_cross_attention_max_past_horizon'],
                cfg['depth_self_attention_max_past_horizon'])

  def ln(x, pre):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-6) * g(pre + '/scale') + g(pre + '/bias')

  def rms(x, pre):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * g(pre + '/scale')

  def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

  def softplus(x):
    return np.log1p(np.exp(-abs(x))) + np.maximum(x, 0)

  def attend(pre, q_in, kbuf, vbuf, sink):
    # q_in [D]; kbuf/vbuf lists of [H, dh] (already projected); returns [D]
    a = pre + '/attention'
    q = np.einsum('d,dnh->nh', q_in, g(a + '/query_projection/kernel'))
    dh = q.shape[-1]
    qs = q * (1.442695041 / np.sqrt(dh)) * softplus(g(a + '/per_dim_scale'))
    K = np.stack(kbuf, 0); Vv = np.stack(vbuf, 0)  # [n, H, dh]
    logits = np.einsum('nh,jnh->nj', qs, K)
    if sink:
      sl_ = np.einsum('nh,knh->nk', q, g(a + '/sink_key_embeddings'))  # unscaled q
      logits = np.concatenate([sl_, logits], 1)
      Vv = np.concatenate([g(a + '/sink_value_embeddings'), Vv], 0)
    p = np.exp(logits - logits.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    ctx = np.einsum('nj,jnh->nh', p, Vv)
    return np.einsum('nh,dnh->d', ctx, g(pre + '/output_projection/kernel'))

  def kv(pre, x):
    a = pre + '/attention'
    return (np.einsum('d,dnh->nh', x, g(a + '/key_projection/kernel')),
            np.einsum('d,dnh->nh', x, g(a + '/value_projection/kernel')))

  def ffn(pre, x):
    h = gelu(rms(x, pre + '/pre_norm') @ g(pre + '/ffn_layer1/kernel') + g(pre + '/ffn_layer1/bias'))
    return x + rms(h @ g(pre + '/ffn_layer2/kernel') + g(pre + '/ffn_layer2/bias'), pre + '/post_norm')

  err = {}
  def chk(name, ours, ref):
    e = float(np.max(np.abs(np.asarray(ours) - np.asarray(ref, np.float64))))
    err[name] = max(err.get(name, 0.0), e)

  # Encoder.
  ic = cfg['input_configs']
  mcv = ic[0]['per_rvq_vocab_size']
  eb = 'encoder/body/'
  x = A['encoder_input'].astype(np.int64)
  ids = x[:, :12] + np.arange(12) * mcv
  mul = g(eb + 'layers_1/branched_mulan_embedder/mulan_embedder/mulan_dequantizer/embedding')[ids].sum(1)
  mul = mul @ g(eb + 'layers_1/branched_mulan_embedder/mulan_embedder/depth_input_adapter/kernel')
  vocabs = sum([[c['per_rvq_vocab_size']] * c['rvq_truncation_level'] for c in ic[1:]], [])
  offs = np.concatenate([[0], np.cumsum(vocabs)[:-1]])
  reg = g(eb + 'layers_1/branched_regular_embedder/regular_embedder/embedding')[x[:, 12:] + offs].mean(1)
  enc = ln((mul + reg) / 2, eb + 'encoder_ln')
  chk('enc_mulan_branch', mul, A['enc_mulan_branch'])
  chk('enc_regular_branch', reg, A['enc_regular_branch'])
  chk('enc_output', enc, A['enc_output'])

  emb = g('decoder/decoder_embedding/embedding/embedding') * np.sqrt(Dt)
  tb = 'decoder/temporal_body/transformer/x_layers_'
  db = 'decoder/depth_body/'
  selfc = [([], []) for _ in range(ts['num_layers'])]
  crossc = [([], []) for _ in range(ts['num_layers'])]
  lg_err = 0.0
  for t in range(T):
    h = emb[A['prev_tokens'][t]].mean(0)
    chk('temporal_inputs', h, A['temporal_inputs'][t])
    for i in range(ts['num_layers']):
      pre = f'{tb}{i}/self_attention'
      k, v = kv(pre, rms(h, pre + '/pre_norm'))
      K, Vb = selfc[i]; K.append(k); Vb.append(v)
      del K[:-(Ws + 1)], Vb[:-(Ws + 1)]
      h = h + rms(attend(pre, rms(h, pre + '/pre_norm'), K, Vb, True), pre + '/post_norm')
      chk(f'temporal_l{i}_self_attention', h, A[f'temporal_l{i}_self_attention'][t])
      pre = f'{tb}{i}/cross_attention'
      k, v = kv(pre, enc[t])
      K, Vb = crossc[i]; K.append(k); Vb.append(v)
      del K[:-(Wc + 1)], Vb[:-(Wc + 1)]
      h = h + rms(attend(pre, rms(h, pre + '/pre_norm'), K, Vb, True), pre + '/post_norm')
      chk(f'temporal_l{i}_cross_attention', h, A[f'temporal_l{i}_cross_attention'][t])
      h = ffn(f'{tb}{i}/ffn', h)
      chk(f'temporal_l{i}_ffn', h, A[f'temporal_l{i}_ffn'][t])
    chk('temporal_outputs', h, A['temporal_outputs'][t])
    dcache = [([], []) for _ in range(ds['num_layers'])]
    inp = h
    for r in range(L):
      z = inp @ g(db + 'depth_input_adapter/kernel')
      chk('depth_adapter', z, A['depth_adapter'][t, r])
      for i in range(ds['num_layers']):
        pre = f'{db}transformer/x_layers_{i}/self_attention'
        k, v = kv(pre, rms(z, pre + '/pre_norm'))
        K, Vb = dcache[i]; K.append(k); Vb.append(v)
        z = z + rms(attend(pre, rms(z, pre + '/pre_norm'), K[-(Wd + 1):], Vb[-(Wd + 1):], False), pre + '/post_norm')
        z = ffn(f'{db}transformer/x_layers_{i}/ffn', z)
        chk(f'depth_l{i}', z, A[f'depth_l{i}'][t, r])
      z = ln(z, db + 'final_ln')
      chk('depth_final_ln', z, A['depth_final_ln'][t, r])
      logits = z @ g(db + 'to_logits/kernel') + g(db + 'to_logits/bias')
      chk('depth_logits', logits, A['depth_logits'][t, r])
      inp = emb[A['depth_samples'][t, r]]  # teacher forcing
  ok = True
  for k_, e in err.items():
    print(f'{k_:32s} max|err| = {e:.3g}')
    ok &= e < 1e-3
  print('verify:', 'OK' if ok else 'MISMATCH')
  return ok


def main():
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  sub = ap.add_subparsers(dest='cmd', required=True)
  sub.add_parser('names')
  t = sub.add_parser('tiny')
  t.add_argument('--frames', type=int, default=TINY_FRAMES)
  sub.add_parser('verify')
  sub.add_parser('encoder')
  sub.add_parser('audio-float')
  a = sub.add_parser('all')
  a.add_argument('--frames', type=int, default=TINY_FRAMES)
  args = ap.parse_args()
  if args.cmd in ('names', 'all'):
    cmd_names(args)
  if args.cmd in ('tiny', 'all'):
    cmd_tiny(args)
  if args.cmd == 'encoder':
    cmd_encoder(args)
  if args.cmd == 'audio-float':
    cmd_audio_float(args)
  if args.cmd in ('verify', 'all'):
    sys.exit(0 if cmd_verify(args) else 1)


if __name__ == '__main__':
  main()
