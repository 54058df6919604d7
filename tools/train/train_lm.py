#!/usr/bin/env python3
"""Trains the bundled model's Depthformer LM on a tokenised dataset (docs/training-lm.md).

  .venv-train/bin/python tools/train/train_lm.py --data DIR --out RUN [--steps N] [--batch B]
      [--window T] [--set key=value ...] [--device cpu|cuda] [--threads N] [--resume]
      [--fit-minutes M]

RUN receives state.pt (model, optimiser, step: --resume continues from it),
depthformer.safetensors (official layout, params/depthformer/...) and lm.json (the
architecture, the training settings and the metrics), rewritten at every save.
"""

import argparse
import ast
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lm_data  # noqa: E402
from common.budget import TimeBudget  # noqa: E402
from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.depthformer import Depthformer  # noqa: E402
from mrt2_torch.depthformer_config import PITCHES, ConfigError, DepthformerConfig  # noqa: E402


def default_config(**overrides) -> DepthformerConfig:
  """The bundled model's LM: 19.0 M parameters, 8.6 M of them the 12294-row token embedding
  and logits that the codec's 12 x 1024 codes fix; per frame 6 temporal layers of 320 and
  12 passes of 2 depth layers of 256 (FFN 512: the depth stack runs 12 times a frame and is
  the costliest stage). Windows of 41 frames (1.64 s) as mrt2_small. Measured in continuo
  with bf16 weights: ~10 ms of one core per frame with the default codec
  (docs/training-lm.md, "Default configuration")."""
  base = dict(encoder_dims=256, style_dims=64,
              temporal_layers=6, temporal_dims=320, temporal_ffn=1280, temporal_heads=5,
              temporal_head_dims=64,
              depth_layers=2, depth_dims=256, depth_ffn=512, depth_heads=4, depth_head_dims=64,
              temporal_self_horizon=41, temporal_cross_horizon=41)
  return DepthformerConfig(**{**base, **overrides})


# ---- settings, refused before any compute ----------------------------------------------

def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--data', type=Path, help='dataset directory (manifest.json)')
  ap.add_argument('--out', type=Path, required=True, help='run directory')
  ap.add_argument('--codes', help='name of the codes tools/train/tokenize_dataset.py wrote into the dataset')
  ap.add_argument('--pack', type=Path,
                  help='instead of --data, --codes and --style-tokens: their arrays in one file '
                       '(tools/train/pack_lm_data.py)')
  ap.add_argument('--style-tokens', default=None,
                  help=f'per-clip style tokens (default DATA/{lm_data.STYLE_TOKENS}); '
                       '"none": style masked everywhere')
  ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                  help='DepthformerConfig field over the default config (Python literal)')
  ap.add_argument('--steps', type=int, default=20000)
  ap.add_argument('--batch', type=int, default=16)
  ap.add_argument('--window', type=int, default=125, help='frames per training window (5 s)')
  ap.add_argument('--lr', type=float, default=1e-3)
  ap.add_argument('--min-lr-ratio', type=float, default=0.1, help='cosine floor, x --lr')
  ap.add_argument('--warmup', type=int, default=500)
  ap.add_argument('--weight-decay', type=float, default=0.05)
  ap.add_argument('--clip-grad', type=float, default=1.0)
  ap.add_argument('--conditioning-lr-scale', type=float, default=1.0,
                  help='learning-rate multiple for the conditioning tables, which then are not decayed')
  ap.add_argument('--note-row-norm', type=float, default=0.0,
                  help='norm every pitch\'s held and onset rows in the encoder\'s regular table '
                       'start from: at a fresh start, or on --resume when the run had another '
                       '(0: leave them; upstream\'s init gives ~1; see balance_note_rows)')
  ap.add_argument('--splice', type=float, default=0.0,
                  help='fraction of training windows cut over to another clip at a random frame '
                       '(lm_data.spliced: teaches the LM to follow its conditioning)')
  ap.add_argument('--full-vocab', action='store_true',
                  help="upstream's loss over all 12294 ids (default: each level's own codebook)")
  ap.add_argument('--validation-clips', type=int, default=16)
  ap.add_argument('--validate-every', type=int, default=500)
  ap.add_argument('--save-every', type=int, default=500)
  ap.add_argument('--log-every', type=int, default=10)
  ap.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
  ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
  ap.add_argument('--seed', type=int, default=1)
  ap.add_argument('--resume', action='store_true', help='continue RUN/state.pt')
  ap.add_argument('--fit-minutes', type=float, default=None,
                  help='this call\'s wall time: --steps is lowered to what fits, timed over the first '
                       'steps, so the schedule ends on time (the GPU machine\'s 10-minute calls)')
  return ap.parse_args(argv)


def config_from(args) -> DepthformerConfig:
  overrides = {}
  for item in args.set:
    key, _, value = item.partition('=')
    if key not in {f.name for f in dataclasses.fields(DepthformerConfig)}:
      raise ConfigError(f'--set {item}: DepthformerConfig has no field {key!r}')
    overrides[key] = ast.literal_eval(value) if key != 'token_dropout_unit' else value
  return default_config(**overrides).validate()


def setting_problems(args, config) -> list[str]:
  problems = []
  if (args.pack is None) == (args.data is None or args.codes is None):
    problems.append('give either --data and --codes, or --pack')
  positive = ('steps', 'batch', 'window', 'validation_clips', 'validate_every', 'save_every',
              'log_every', 'threads')
  problems += [f'--{k.replace("_", "-")} = {getattr(args, k)}: must be >= 1'
               for k in positive if getattr(args, k) < 1]
  if not 0 <= args.warmup < args.steps:
    problems.append(f'--warmup = {args.warmup}: must be in 0..--steps-1 ({args.steps - 1})')
  if not (args.lr > 0 and 0 <= args.min_lr_ratio <= 1 and args.clip_grad > 0):
    problems.append('--lr and --clip-grad must be > 0, --min-lr-ratio in [0, 1]')
  # A window no longer than the attention horizon never trains the steady state continuo
  # runs in (every frame with a full window of history).
  horizon = max(config.temporal_self_horizon, config.temporal_cross_horizon)
  if args.window <= horizon:
    problems.append(f'--window = {args.window}: must exceed the temporal horizons '
                    f'({config.temporal_self_horizon}/{config.temporal_cross_horizon} frames)')
  if args.fit_minutes is not None and args.fit_minutes <= 0:
    problems.append(f'--fit-minutes = {args.fit_minutes}: must be > 0')
  if not 0 <= args.splice <= 1:
    problems.append(f'--splice = {args.splice}: must be in [0, 1]')
  if args.note_row_norm < 0:
    problems.append(f'--note-row-norm = {args.note_row_norm}: must be >= 0 (0: upstream init)')
  if args.device == 'cuda' and not torch.cuda.is_available():
    problems.append('--device cuda: torch sees no CUDA device')
  state = args.out / 'state.pt'
  if state.exists() and not args.resume:
    problems.append(f'{state} exists: pass --resume to continue it, or choose another --out')
  if args.resume and not state.exists():
    problems.append(f'--resume: {state} does not exist')
  return problems


def read_clips(args):
  """The clips of --data/--codes/--style-tokens, or of --pack (args then name its origin)."""
  if args.pack is None:
    return lm_data.load(args.data, args.codes, lm_data.style_tokens_path(args.data, args.style_tokens))
  clips, origin = lm_data.load_pack(args.pack)
  args.data, args.codes, args.style_tokens = Path(origin['data']), origin['codes'], origin['style_tokens']
  return clips


def load_data(args, config):
  clips = read_clips(args)
  problems = lm_data.problems_with(clips, config.codebook,
                                   config.style_vocab - config.conditioning_offset, args.window)
  if len(clips) <= args.validation_clips:
    problems.append(f'--validation-clips = {args.validation_clips}: the dataset has only '
                    f'{len(clips)} clips')
  if problems:
    raise lm_data.DataError(f'{args.pack or args.data}:\n  ' + '\n  '.join(problems))
  return lm_data.split(clips, args.validation_clips)


# ---- optimisation ----------------------------------------------------------------------

def make_optimizer(model, args):
  # Decay the matrices only: norms, biases, per-dim scales and sinks keep their values.
  # --conditioning-lr-scale: the encoder's tables in a group of their own, undecayed, at that
  # multiple of the learning rate. The regular branch is a mean over 132 channels, so a few
  # held notes barely move it; at 1 the tables train like every other matrix.
  tables = ([model.encoder.style_table, model.encoder.style_adapter, model.encoder.regular_table]
            if args.conditioning_lr_scale != 1.0 else [])
  others = [p for p in model.parameters() if all(p is not t for t in tables)]
  groups = [{'params': [p for p in others if p.ndim >= 2], 'weight_decay': args.weight_decay},
            {'params': [p for p in others if p.ndim < 2], 'weight_decay': 0.0}]
  if tables:
    groups.append({'params': tables, 'weight_decay': 0.0, 'lr_scale': args.conditioning_lr_scale})
  return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98))


@torch.no_grad()
def balance_note_rows(model, norm):
  """Rescale the held and onset rows of the 128 pitch channels to `norm`, directions kept.
  The encoder averages 132 regular channels and adds the 12-token style branch: with
  upstream's init (rows of norm ~1) one held note moves the encoder output by ~0.5 % of its
  norm while the style moves it by ~100 %, and a small model on a CPU budget learns to ignore
  the notes (docs/models.md, "Why the notes are ignored"). Rows of norm ~N move the mean by
  ~N/132 per held note. Only the initial values change: the runtime computes the same thing."""
  c, table = model.config, model.encoder.regular_table
  offsets = c.regular_offsets()
  for pitch in range(PITCHES):
    for raw in (1, 2):  # held, onset
      row = table[offsets[pitch] + raw + c.conditioning_offset]
      row.mul_(norm / row.norm())


def run_note_row_norm(args):
  """The --note-row-norm the run so far trained with (0 for a fresh run)."""
  if not args.resume:
    return 0.0
  return json.loads((args.out / 'lm.json').read_text())['training'].get('note_row_norm', 0.0)


def learning_rate(step, args):
  """Linear warmup, then cosine from --lr down to --min-lr-ratio x --lr at the last step."""
  if step < args.warmup:
    return args.lr * (step + 1) / args.warmup
  progress = (step - args.warmup) / max(1, args.steps - 1 - args.warmup)
  floor = args.lr * args.min_lr_ratio
  return floor + (args.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def level_losses(model, batch, args):
  """[levels] mean cross-entropy per RVQ level (nats)."""
  autocast = torch.autocast('cuda', torch.bfloat16, enabled=args.device == 'cuda')
  with autocast:
    nll = model.loss(batch, reduction='none', full_vocab=args.full_vocab)
  return nll.float().mean((0, 1))


@torch.no_grad()
def validate(model, clips, args):
  model.eval()
  total, windows = 0, 0
  for batch in lm_data.validation_batches(clips, args.batch, args.window, args.device):
    total = total + level_losses(model, batch, args) * len(batch['codes'])
    windows += len(batch['codes'])
  model.train()
  return (total / windows).tolist()


# ---- state, outputs, progress ----------------------------------------------------------

def save(run, model, optimizer, step, rng, metrics, args):
  """Atomic: a run killed mid-save resumes from the previous state."""
  tmp = run / 'state.pt.part'
  torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'step': step,
              'numpy_rng': rng.bit_generator.state, 'torch_rng': torch.get_rng_state(),
              'architecture': model.config.architecture(), 'metrics': metrics}, tmp)
  os.replace(tmp, run / 'state.pt')
  checkpoint.save(run / 'depthformer.safetensors', model.to_official())
  c = model.config
  summary = {'architecture': c.architecture(),
             'training': {'dropout': c.dropout, 'token_dropout': c.token_dropout,
                          'token_dropout_unit': c.token_dropout_unit,
                          'cfg_bins': [lm_data.CFG_BIN, lm_data.CFG_BIN, lm_data.CFG_DRUM_BIN],
                          **{k: (str(v) if isinstance(v, Path) else v)
                             for k, v in vars(args).items() if k != 'resume'}},
             'parameters': sum(p.numel() for p in model.parameters()),
             'step': step, 'metrics': metrics}
  (run / 'lm.json').write_text(json.dumps(summary, indent=1) + '\n')


def record_segment(metrics, step, args):
  """Which data trained which steps, in metrics['segments']: a resumed run may go on with
  another dataset (more clips, the same codec), and the model card says so."""
  segments = metrics.setdefault('segments', [])
  if not segments and step > 0:  # a run from before segments were recorded: its lm.json says
    before = json.loads((args.out / 'lm.json').read_text())['training']
    segments.append({'from_step': 0, 'data': before['data'], 'codes': before['codes']})
  here = {'data': str(args.data), 'codes': args.codes}
  if not segments or {key: segments[-1][key] for key in here} != here:
    segments.append({'from_step': step, **here})


def restore(run, model, optimizer, rng):
  state = torch.load(run / 'state.pt', map_location='cpu', weights_only=False)
  if state['architecture'] != model.config.architecture():
    changed = [k for k, v in model.config.architecture().items() if state['architecture'][k] != v]
    raise ConfigError(f'{run}/state.pt was trained with another architecture '
                      f'(differs in {", ".join(changed)}); resume with the same --set')
  model.load_state_dict(state['model'])
  if len(state['optimizer']['param_groups']) == len(optimizer.param_groups):
    optimizer.load_state_dict(state['optimizer'])
  else:  # --conditioning-lr-scale changed the groups: Adam's moments start again
    print(f'{run}/state.pt: its optimizer had other parameter groups; the optimizer starts afresh',
          file=sys.stderr)
  rng.bit_generator.state = state['numpy_rng']
  torch.set_rng_state(state['torch_rng'])
  return state['step'], state['metrics']


def report(step, args, losses, frames_per_s, began_step, began):
  done = step + 1 - began_step
  eta = (time.monotonic() - began) / done * (args.steps - step - 1)
  levels = ' '.join(f'{x:.2f}' for x in losses)
  print(f'step {step + 1}/{args.steps} loss {sum(losses) / len(losses):.4f} '
        f'[{levels}] lr {learning_rate(step, args):.2e} '
        f'{frames_per_s * lm_data.LEVELS:.0f} tokens/s ETA {eta / 60:.1f} min',
        file=sys.stderr, flush=True)


# ---- the loop --------------------------------------------------------------------------

def train(args, config, training, validation):
  torch.manual_seed(args.seed)
  rng = np.random.default_rng(args.seed)
  model = Depthformer(config).to(args.device)
  model.train()
  optimizer = make_optimizer(model, args)
  step, metrics = 0, {'validation': [], 'train': []}
  if args.resume:
    step, metrics = restore(args.out, model, optimizer, rng)
    print(f'resumed {args.out}/state.pt at step {step}', file=sys.stderr)
  if args.note_row_norm > 0 and args.note_row_norm != run_note_row_norm(args):
    balance_note_rows(model, args.note_row_norm)
    print(f'note rows set to norm {args.note_row_norm} at step {step}', file=sys.stderr)
  record_segment(metrics, step, args)
  params = sum(p.numel() for p in model.parameters())
  print(f'{params / 1e6:.2f} M parameters; {len(training)} training clips, '
        f'{len(validation)} held out; {training.frames} frames per clip', file=sys.stderr)
  began, began_step = time.monotonic(), step
  budget = TimeBudget(args.fit_minutes, step) if args.fit_minutes else None
  window_losses, window_began = [], time.monotonic()
  while step < args.steps:
    for group in optimizer.param_groups:
      group['lr'] = learning_rate(step, args) * group.get('lr_scale', 1.0)
    batch = lm_data.random_batch(training, args.batch, args.window, rng, args.device,
                                 args.splice)
    losses = level_losses(model, batch, args)
    optimizer.zero_grad(set_to_none=True)
    losses.mean().backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
    optimizer.step()
    window_losses.append(losses.detach().cpu())
    if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
      mean = torch.stack(window_losses).mean(0).tolist()
      fps = len(window_losses) * args.batch * args.window / (time.monotonic() - window_began)
      report(step, args, mean, fps, began_step, began)
      metrics['train'].append({'step': step + 1, 'loss': sum(mean) / len(mean)})
      window_losses, window_began = [], time.monotonic()
    step += 1
    if budget is not None:
      budget.lower_steps(step, args)  # learning_rate() reads args.steps
    out_of_time = budget is not None and budget.out_of_time()
    if step % args.validate_every == 0 or step == args.steps or out_of_time:
      per_level = validate(model, validation, args)
      metrics['validation'].append({'step': step, 'loss': sum(per_level) / len(per_level),
                                    'per_level': per_level})
      print(f'validation at step {step}: loss {metrics["validation"][-1]["loss"]:.4f} '
            f'[{" ".join(f"{x:.2f}" for x in per_level)}]', file=sys.stderr, flush=True)
    if step % args.save_every == 0 or step == args.steps or out_of_time:
      metrics['wall_seconds'] = metrics.get('wall_seconds', 0) + time.monotonic() - began
      began, began_step = time.monotonic(), step
      save(args.out, model, optimizer, step, rng, metrics, args)
    if out_of_time:
      print(f'out of --fit-minutes at step {step} of {args.steps}; saved, --resume continues',
            file=sys.stderr, flush=True)
      break
  return metrics


def main(argv=None):
  args = parse_args(argv)
  try:
    config = config_from(args)
    problems = setting_problems(args, config)
    if problems:
      raise ConfigError('\n  '.join(['refusing to train:'] + problems))
    training, validation = load_data(args, config)
  except (ConfigError, lm_data.DataError) as e:
    print(f'train_lm: error: {e}', file=sys.stderr)
    return 2
  torch.set_num_threads(args.threads)
  args.out.mkdir(parents=True, exist_ok=True)
  train(args, config, training, validation)
  return 0


if __name__ == '__main__':
  sys.exit(main())
