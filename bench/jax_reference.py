#!/usr/bin/env python3
"""The official JAX implementation's time per frame (issue 4's comparison: same GPU, same
shapes as bench_model --backend cuda). Builds the official MagentaRT2Sampler (PyPI
`magenta-rt` 2.0.3: Depthformer + SpectroStream decoder, the module
magenta_rt.jax.system.MagentaRT2System.generate steps) for mrt2_small or mrt2_base with random
weights, jits its step_with_emits and times frames one by one (each waited on), the way the
official runner streams. Nothing here copies official code: it imports the package and calls
it, as tools/make_fixtures.py does.

  .venv-ref/bin/python bench/jax_reference.py --model mrt2_small [--frames 200] [--warmup 20]

Prints the device JAX runs on, parameter count, compile time, ms per frame p50 / p99 / mean
and the real-time factor (40 ms frames), and a RESULT line like bench_model's. On the GPU
machine the image has JAX with CUDA; magenta-rt and the few pure-Python packages it needs that
the image lacks travel as wheels (docs/cuda.md, "What a GPU session must do").
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
from make_fixtures import _sampler_init_fn  # noqa: E402  (the fixtures' init: one official step)

FRAME_MS = 40.0  # 25 Hz frames


def sampler_for(name):
  """(experiment, sampler) of the official model `name` with its own SpectroStream config."""
  from magenta_rt.jax import model, spectrostream, system
  exp = model.get_model_class(name)()
  sscfg = spectrostream.stft_spectrostream_40ms_generic_48khz_stereo_config(
      rvq_truncation_level=exp.spectrostream.rvq_truncation_level, use_unique_codes=False)
  return exp, system.MagentaRT2Sampler.Config(depthformer=exp.depthformer_config(), spectrostream=sscfg).make()


def masked_conditioning(exp):
  """One frame of conditioning with everything masked (-1) but default CFG bins, offset by 7
  as system.MagentaRT2System._build_conditioning does: what continuo's bench steps too."""
  import jax.numpy as jnp
  raw = np.full(exp.input_num_channels, -1, np.int32)
  raw[-3:-1] = 30  # CFG style / notes bins of scale 5
  raw[-1] = 6      # CFG drums bin of scale 5
  return jnp.asarray((raw + 7).reshape(1, 1, -1))


def random_variables(sampler, rngs, init_fn):
  """Random variables in the shapes sampler.init gives, drawn leaf by leaf (N(0, 0.02²); integer
  leaves zero). Timing needs only the shapes: jitting the official init compiles the whole model
  once more, which took 98 s for mrt2_small on an H200 and did not end within 4 minutes for
  mrt2_base."""
  import jax
  import jax.numpy as jnp
  import flax.linen as nn
  shapes = nn.unbox(jax.eval_shape(lambda: sampler.init(rngs, method=init_fn)))
  leaves, tree = jax.tree_util.tree_flatten(shapes)
  keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))

  def draw(key, leaf):
    if not jnp.issubdtype(leaf.dtype, jnp.floating):
      return jnp.zeros(leaf.shape, leaf.dtype)
    return (0.02 * jax.random.normal(key, leaf.shape, jnp.float32)).astype(leaf.dtype)

  return jax.tree_util.tree_unflatten(tree, [draw(k, leaf) for k, leaf in zip(keys, leaves)])


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--model', choices=('mrt2_small', 'mrt2_base'), default='mrt2_small')
  ap.add_argument('--frames', type=int, default=200)
  ap.add_argument('--warmup', type=int, default=20)
  ap.add_argument('--temperature', type=float, default=1.1)
  ap.add_argument('--top-k', type=int, default=40)
  args = ap.parse_args(argv)
  if args.frames < 1 or args.warmup < 1:
    ap.error('--frames and --warmup must be >= 1')

  import jax
  import jax.numpy as jnp
  import magenta_rt  # noqa: F401  (activates the vendored sequence_layers)
  import sequence_layers.jax as sl

  print(f'jax {jax.__version__} on {jax.devices()[0]}', flush=True)
  exp, sampler = sampler_for(args.model)
  channels = exp.input_num_channels
  rngs = {'params': jax.random.PRNGKey(1), 'random': jax.random.PRNGKey(0)}
  spec = jax.ShapeDtypeStruct([channels], jnp.int32)
  constants = {'temperature': jnp.array([args.temperature], jnp.float32),
               'top_k': jnp.array([args.top_k], jnp.int32)}

  began = time.monotonic()
  params = random_variables(sampler, rngs, _sampler_init_fn(channels, args.temperature, args.top_k))
  count = sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(params))
  print(f'{args.model}: {count / 1e6:.1f} M parameters, random init {time.monotonic() - began:.1f} s', flush=True)

  @jax.jit
  def initial_state(params):
    return sampler.apply(params, 1, spec, constants={}, training=False, rngs=rngs,
                         method=sampler.get_initial_state)

  @jax.jit
  def step(params, x, state):
    (y, state, _) = sampler.apply(params, x=sl.Sequence.from_values(x), state=state, constants=constants,
                                  training=False, rngs=rngs, method=sampler.step_with_emits)
    return y.values, state

  x = masked_conditioning(exp)
  state = initial_state(params)
  began = time.monotonic()
  audio, state = step(params, x, state)
  jax.block_until_ready(audio)
  print(f'compile + first frame {time.monotonic() - began:.1f} s; a frame is {audio.shape[1]} samples', flush=True)
  for _ in range(args.warmup):
    audio, state = step(params, x, state)
  jax.block_until_ready(audio)
  times = []
  for _ in range(args.frames):
    began = time.perf_counter()
    audio, state = step(params, x, state)
    jax.block_until_ready((audio, state))
    times.append(1000.0 * (time.perf_counter() - began))
  p50, p99, mean = np.percentile(times, 50), np.percentile(times, 99), float(np.mean(times))
  print(f'ms per frame: p50 {p50:.3f}, p99 {p99:.3f}, mean {mean:.3f} over {args.frames} frames; '
        f'real-time factor {FRAME_MS / p50:.2f} at p50, {FRAME_MS / p99:.2f} at p99')
  print(f'RESULT implementation=official_jax model={args.model} device="{jax.devices()[0]}" '
        f'p50_ms={p50:.3f} p99_ms={p99:.3f} rtf_p50={FRAME_MS / p50:.3f}', flush=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
