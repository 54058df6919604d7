#!/usr/bin/env python3
"""Train the SpectroStream codec on a tools/train/data dataset (docs/training-codec.md).

  .venv-train/bin/python tools/train/train_codec.py --data /work/data/v1 --out runs/codec1 --steps 20000
  .venv-train/bin/python tools/train/train_codec.py --resume runs/codec1 [--steps 40000] [--max-minutes 25]
  .venv-train/bin/python tools/train/train_codec.py --data DIR --out RUN --device cuda --fit-minutes 7

Random crops of --crop-frames token frames (stereo, 48 kHz, int16 / 32768) from all clips but
the last --heldout; loss = multi-resolution STFT + multi-scale mel + 0.1 waveform L1
(mrt2_torch/losses.py) + --beta x commitment (codebooks by EMA); quantizer dropout: with
probability --quantizer-dropout an example decodes only its first n ~ U{1..12} levels. AdamW,
linear warm-up then cosine decay to 10 %, gradient norm clipped. The state is saved every
--checkpoint-every steps, at SIGINT/SIGTERM and after --max-minutes (then exit 0, resumable).
--fit-minutes M instead lowers --steps, once the first steps are timed, to what M minutes hold
(common/budget.py), so the cosine schedule ends and the run finishes within the call.
At --steps: codec.safetensors (official layout, encoder included) and metrics.json (held-out
multi-resolution mel distance and SI-SDR, tools/eval/metrics.py).

--note-weight W adds W x the BCE (nats per frame, summed over the pitches) of a linear note head
from each frame's quantized embedding to the dataset's 128 note labels of that frame. The
quantized embedding is the sum of one codebook row per level, a linear function of the codes'
one-hots, so the head asks the codes to hold the notes (what pitch_probe.py measures); it is the semantic distillation of Mimi's first level,
with the labels the composer gives for free. The head is training-only (not exported); it joins
a resumed run that had none with fresh weights.

--phase-weight W adds W x losses.phase_advance_loss at the codec's own STFT: how far each bin's
phase advance from hop to hop is from the source's. At 50 Hz bins a note's pitch is that
advance, which magnitude losses leave free (docs/training-codec.md).

--magnitude-weight W adds W x losses.spectral_magnitude_loss between the decoder's own output
magnitudes and the source's STFT at the codec's framing, frame for frame: the one term that
scores each bin without the phases and the overlap-add in between (in the peak_phase mode the
magnitudes are all the decoder gives).

--adversarial-weight W adds W x (hinge + 2 x feature matching) against a multi-resolution
complex-STFT discriminator (mrt2_torch/discriminator.py) that sees a random --adversary-frames
window of each crop, real and decoded, and steps after the codec with its own AdamW. It is the
usual cure for STFT frames that do not join (the hop-rate buzz); training-only, joining a
resumed run with fresh weights like the note head.

--init-package DIR starts a new run from the codec of a continuo model package (models/default:
bf16 weights widened), in the layout --config/--set describe; the decoder's output mode may
differ from the package's. --decoder-only then trains the decoder alone: the encoder and
codebooks stay as they are, so the codes mean what they meant and an LM trained on them still
fits. That is how a decoder in a new output mode (phase_accumulate) joins a shipped model
without retraining its LM.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))
sys.path.insert(0, str(ROOT / 'tools' / 'eval'))

import metrics  # noqa: E402  (tools/eval)
from codec_run import (METRICS_FILE, RUN_FILE, WEIGHTS_FILE, config_from_json, config_to_json,  # noqa: E402
                       make_config, package_codec, receptive_field_frames)
from common.budget import TimeBudget  # noqa: E402
from common.cli import StopRequest, parse_set, refuse  # noqa: E402
from common.dataset import DatasetError, Shards  # noqa: E402
from common.progress import Progress  # noqa: E402
from common.state import has_training_state, load_training_state, save_training_state  # noqa: E402
from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.discriminator import StftDiscriminator, discriminator_hinge_loss, fft_sizes, generator_losses  # noqa: E402
from mrt2_torch.losses import (PITCH_RESOLUTIONS, multi_resolution_stft_loss, multi_scale_mel_loss,  # noqa: E402
                               phase_advance_loss, spectral_magnitude_loss)
from mrt2_torch.spectrostream import SpectroStream, spectrum_magnitudes  # noqa: E402
from mrt2_torch.spectrostream_config import PRESETS  # noqa: E402

PROG = 'train_codec.py'
DATA_STREAM_DEFAULTS = {'batch': 8, 'crop_frames': 40}  # fixed for a run: resume keeps them
# Saved in run.json; a resumed run uses the saved value unless the flag is given again.
SCHEDULE_DEFAULTS = {'steps': 20000, 'lr': 3e-4, 'warmup': 500, 'weight_decay': 1e-4, 'grad_clip': 1.0,
                     'beta': 1.0, 'quantizer_dropout': 0.5, 'pitch_weight': 0.0, 'phase_weight': 0.0,
                     'magnitude_weight': 0.0, 'note_weight': 0.0, 'adversarial_weight': 0.0, 'adversary_frames': 12}
INT16_SCALE = 32768.0
HOLD_FRAMES = 5  # evaluate: held_* metrics decode codes held this many frames (0.2 s at 25 Hz)
NOTE_PITCHES = 128
FEATURE_MATCHING_SCALE = 2.0  # DAC's ratio of feature matching to the adversarial term
ADVERSARY_BETAS = (0.8, 0.99)  # HiFi-GAN's, DAC's


def parse(argv):
  p = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
  p.add_argument('--data', help='dataset directory (tools/train/data/build.py --out)')
  where = p.add_mutually_exclusive_group(required=True)
  where.add_argument('--out', type=Path, help='new run directory')
  where.add_argument('--resume', type=Path, help='run directory to continue (its config and data are kept)')
  p.add_argument('--config', choices=sorted(PRESETS), default='default')
  p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='config field, Python literal')
  p.add_argument('--init-package', type=Path, help='new run: start from the codec of this model package')
  p.add_argument('--decoder-only', action='store_true',
                 help='new run: train the decoder alone; the codes keep their meaning (needs --init-package)')
  p.add_argument('--steps', type=int, help='total optimizer steps of the run')
  p.add_argument('--batch', type=int, help=f'crops per step (default {DATA_STREAM_DEFAULTS["batch"]})')
  p.add_argument('--crop-frames', type=int,
                 help=f'token frames (40 ms) per crop (default {DATA_STREAM_DEFAULTS["crop_frames"]})')
  p.add_argument('--lr', type=float)
  p.add_argument('--warmup', type=int, help='steps of linear learning-rate warm-up')
  p.add_argument('--weight-decay', type=float)
  p.add_argument('--grad-clip', type=float, help='max gradient norm')
  p.add_argument('--beta', type=float, help='commitment loss weight')
  p.add_argument('--quantizer-dropout', type=float,
                 help='share of examples decoded from their first n ~ U{1..12} levels only')
  p.add_argument('--pitch-weight', type=float,
                 help='weight of the pitch-resolving STFT loss (losses.PITCH_RESOLUTIONS; default 0)')
  p.add_argument('--phase-weight', type=float,
                 help='weight of the phase-advance loss at the codec\'s own STFT (losses.phase_advance_loss; default 0)')
  p.add_argument('--magnitude-weight', type=float,
                 help='weight of the decoder\'s own magnitudes against the source\'s STFT '
                      '(losses.spectral_magnitude_loss; default 0)')
  p.add_argument('--note-weight', type=float,
                 help='weight of the note head BCE that makes the codes hold the notes (default 0: off)')
  p.add_argument('--adversarial-weight', type=float,
                 help='weight of the STFT discriminator\'s hinge + feature-matching loss (default 0: off)')
  p.add_argument('--adversary-frames', type=int,
                 help=f'token frames of each crop the discriminator sees (default {SCHEDULE_DEFAULTS["adversary_frames"]})')
  p.add_argument('--heldout', type=int, help='last clips kept out of training for metrics (default 5 %%, >= 1)')
  p.add_argument('--eval-seconds', type=float, default=10.0, help='seconds of each held-out clip measured')
  p.add_argument('--checkpoint-every', type=int, default=500)
  p.add_argument('--max-minutes', type=float, help='save and stop after this much wall time (resume later)')
  p.add_argument('--fit-minutes', type=float,
                 help='this call\'s wall time: --steps is lowered to what fits, timed over the first steps, '
                      'so the schedule ends and the run finishes on time (the GPU machine\'s 10-minute calls)')
  p.add_argument('--log-every', type=float, default=10.0, help='seconds between progress lines')
  p.add_argument('--threads', type=int, default=2)
  p.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
  p.add_argument('--seed', type=int, default=1)
  return p.parse_args(argv)


# ---- run setup: everything checked before any compute ---------------------------------------

def new_run(args) -> dict:
  if args.data is None:
    refuse(PROG, '--data is required for a new run')
  if has_training_state(args.out):
    refuse(PROG, f'{args.out} already holds a run; continue it with --resume {args.out} or choose another --out')
  if args.decoder_only and args.init_package is None:
    refuse(PROG, '--decoder-only needs --init-package: codes from a frozen untrained encoder mean nothing')
  try:
    config = make_config(args.config, parse_set(args.set))
  except (ValueError, TypeError) as e:
    refuse(PROG, str(e))
  for key, value in {**DATA_STREAM_DEFAULTS, **SCHEDULE_DEFAULTS}.items():
    if getattr(args, key) is None:
      setattr(args, key, value)
  return {'config': config_to_json(config), 'data': str(Path(args.data).resolve()), 'preset': args.config,
          'set': args.set, 'seed': args.seed, 'heldout': args.heldout,
          'init_package': str(args.init_package.resolve()) if args.init_package else None,
          'decoder_only': args.decoder_only,
          **{key: getattr(args, key) for key in {**DATA_STREAM_DEFAULTS, **SCHEDULE_DEFAULTS}}}


def resumed_run(args) -> dict:
  run_path = args.resume / RUN_FILE
  if not (run_path.is_file() and has_training_state(args.resume)):
    refuse(PROG, f'{args.resume}: no run to resume ({RUN_FILE} and training_state.pt missing); start one with --out')
  run = json.loads(run_path.read_text())
  if args.set or args.config != 'default' or args.init_package or args.decoder_only:
    refuse(PROG, 'a resumed run keeps its config and its start; drop --config/--set/--init-package/'
           '--decoder-only (they are in ' + str(run_path) + ')')
  if args.data and Path(args.data).resolve() != Path(run['data']):
    refuse(PROG, f'the run trained on {run["data"]}, not {args.data}')
  for key in DATA_STREAM_DEFAULTS:
    if getattr(args, key) not in (None, run[key]):
      refuse(PROG, f'--{key.replace("_", "-")} {getattr(args, key)}: the run uses {run[key]} (fixed for a run)')
    setattr(args, key, run[key])
  for key in SCHEDULE_DEFAULTS:
    if getattr(args, key) is None:
      setattr(args, key, run.get(key, SCHEDULE_DEFAULTS[key]))  # runs older than the key: its default
    run[key] = getattr(args, key)
  return run


def check(args, run: dict, config, data: Shards, heldout: int) -> None:
  """Refuses arguments that cannot train, with the fix, before the model is built."""
  need = receptive_field_frames(config) + config.lookahead + 1
  problems = []
  if data.sample_rate != config.sample_rate:
    problems.append(f'the dataset is {data.sample_rate} Hz, the codec config {config.sample_rate} Hz')
  if data.channels != config.audio_channels:
    problems.append(f'the dataset has {data.channels} channels, the codec {config.audio_channels}')
  if data.frame_samples != config.frame_samples:
    problems.append(f'label frames are {data.frame_samples} samples, codec frames {config.frame_samples}: '
                    'codes would not line up with the labels')
  if args.crop_frames < need:
    problems.append(f'--crop-frames {args.crop_frames} is shorter than the codec\'s receptive field '
                    f'({need - config.lookahead - 1} frames) + lookahead + 1 = {need}')
  if args.crop_frames * config.frame_samples > data.samples_per_clip:
    problems.append(f'--crop-frames {args.crop_frames} is longer than a clip '
                    f'({data.samples_per_clip // config.frame_samples} frames)')
  if not 1 <= heldout < len(data):
    problems.append(f'--heldout {heldout} must leave 1 .. {len(data) - 1} clips for training')
  if args.eval_seconds * config.sample_rate < config.frame_samples * (config.lookahead + 2):
    problems.append(f'--eval-seconds {args.eval_seconds} is too short to measure')
  for name in ('steps', 'batch', 'checkpoint_every', 'threads'):
    if getattr(args, name) < 1:
      problems.append(f'--{name.replace("_", "-")} must be >= 1')
  if args.fit_minutes is not None and args.fit_minutes <= 0:
    problems.append(f'--fit-minutes {args.fit_minutes} must be > 0')
  if not (args.lr > 0 and 0 <= args.quantizer_dropout <= 1 and args.grad_clip > 0):
    problems.append('--lr and --grad-clip must be > 0, --quantizer-dropout in [0, 1]')
  weights = ('pitch_weight', 'phase_weight', 'magnitude_weight', 'note_weight', 'adversarial_weight')
  if any(getattr(args, name) < 0 for name in weights):
    problems.append(', '.join(f'--{name.replace("_", "-")}' for name in weights) + ' must be >= 0')
  if args.adversarial_weight > 0 and not 1 <= args.adversary_frames <= args.crop_frames - config.lookahead:
    problems.append(f'--adversary-frames {args.adversary_frames} must be 1 .. --crop-frames minus the lookahead '
                    f'({args.crop_frames - config.lookahead})')
  elif args.adversarial_weight > 0 and args.adversary_frames * config.frame_samples <= max(fft_sizes(config.sample_rate)) // 2:
    problems.append(f'--adversary-frames {args.adversary_frames}: the discriminator\'s window must be longer than '
                    f'half its largest FFT ({max(fft_sizes(config.sample_rate))} points)')
  if run.get('decoder_only') and args.note_weight > 0:
    problems.append('--note-weight with --decoder-only: the note head teaches the codes, which stay frozen')
  if args.device == 'cuda' and not torch.cuda.is_available():
    problems.append('--device cuda but torch sees no CUDA device')
  if problems:
    refuse(PROG, '\n  '.join(['refusing to train:'] + problems))


# ---- training -----------------------------------------------------------------------------

def crops(data: Shards, clips: int, n: int, frames: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
  """n random crops of `frames` label frames from clips 0 .. clips-1, starting on a frame
  boundary so that the codes line up with the labels: (audio float [n, 2, frames *
  frame_samples], notes float [n, frames, 128], 1 where a pitch is held or struck)."""
  samples = frames * data.frame_samples
  audio = np.empty((n, data.channels, samples), np.float32)
  notes = np.empty((n, frames, NOTE_PITCHES), np.float32)
  for i in range(n):
    clip = int(rng.integers(clips))
    start = int(rng.integers(data.samples_per_clip // data.frame_samples - frames + 1))
    audio[i] = data.audio(clip)[start * data.frame_samples:][:samples].T / INT16_SCALE
    notes[i] = data[clip].notes[start:start + frames] > 0
  return torch.from_numpy(audio), torch.from_numpy(notes)


def level_counts(batch: int, levels: int, dropout: float, rng: np.random.Generator) -> torch.Tensor:
  dropped = rng.random(batch) < dropout
  return torch.from_numpy(np.where(dropped, rng.integers(1, levels + 1, batch), levels))


def pitch_term(model, audio, audio_hat, target, spectrum) -> torch.Tensor:
  return multi_resolution_stft_loss(audio_hat, target, PITCH_RESOLUTIONS)


def phase_term(model, audio, audio_hat, target, spectrum) -> torch.Tensor:
  return phase_advance_loss(audio_hat, target, model.config.fft_size, model.config.hop)


def magnitude_term(model, audio, audio_hat, target, spectrum) -> torch.Tensor:
  source = spectrum_magnitudes(model.stft(audio)[:, :, :spectrum.shape[2]])  # whole frames: no end padding
  return spectral_magnitude_loss(spectrum_magnitudes(spectrum).clamp_min(1e-7), source.clamp_min(1e-7))


# The optional spectral terms, by name: each is computed only where its weight (--NAME-weight)
# is above 0, and the loss adds it at that weight.
OPTIONAL_TERMS = {'pitch': pitch_term, 'phase': phase_term, 'magnitude': magnitude_term}


def loss_terms(model, audio, notes, n_levels, optional_weights: dict[str, float], note_head,
               adversary) -> tuple[dict[str, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
  """The codec's loss terms and, with an adversary, the (real, decoded) windows it judged."""
  audio_hat, spectrum, quantized, _, vq = model(audio, n_levels)
  target = audio[..., :audio_hat.shape[-1]]  # the decoder's lookahead frame is not reconstructed
  terms = {'stft': multi_resolution_stft_loss(audio_hat, target),
           'mel': multi_scale_mel_loss(audio_hat, target, model.config.sample_rate),
           'l1': torch.nn.functional.l1_loss(audio_hat, target), 'vq': vq}
  for name, term in OPTIONAL_TERMS.items():
    if optional_weights.get(name, 0.0) > 0:
      terms[name] = term(model, audio, audio_hat, target, spectrum)
  if note_head is not None:
    terms['notes'] = torch.nn.functional.binary_cross_entropy_with_logits(  # nats per frame
        note_head(quantized), notes, reduction='sum') / notes[..., 0].numel()
  if adversary is None:
    return terms, None
  real, fake = adversary.windows(target, audio_hat)
  terms['adversarial'], terms['features'] = adversary.judge(real, fake)
  return terms, (real, fake)


class Adversary:
  """The discriminator, its optimizer and the window of each crop it sees."""

  def __init__(self, frames: int, config, lr: float, rng: np.random.Generator, device):
    self.discriminator = StftDiscriminator(config.sample_rate).to(device)
    self.optimizer = torch.optim.AdamW(self.discriminator.parameters(), lr=lr, betas=ADVERSARY_BETAS)
    self.samples, self.frame_samples, self.rng = frames * config.frame_samples, config.frame_samples, rng

  def windows(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    start = int(self.rng.integers((real.shape[-1] - self.samples) // self.frame_samples + 1)) * self.frame_samples
    return real[..., start:start + self.samples], fake[..., start:start + self.samples]

  def judge(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The codec's adversarial and feature-matching terms. The discriminator is frozen while it
    judges, so the codec's backward pass computes no gradients for it (its own step does), and
    the real audio's features, only a target, are taken without a graph."""
    with torch.no_grad():
      real_features = self.discriminator(real)
    self.discriminator.requires_grad_(False)
    try:
      fake_features = self.discriminator(fake)
    finally:
      self.discriminator.requires_grad_(True)
    return generator_losses(real_features, fake_features)

  def step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
    """One discriminator step on the windows the codec was just judged on; its hinge loss."""
    loss = discriminator_hinge_loss(self.discriminator(real), self.discriminator(fake.detach()))
    self.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    self.optimizer.step()
    return loss.item()


def frozen_all_but_decoder(model: SpectroStream) -> torch.nn.Module:
  """--decoder-only: the encoder and quantizer get no gradient and stay in eval mode, which
  also stops the codebooks' EMA updates; returns the part that trains."""
  for part in (model.encoder, model.quantizer):
    part.requires_grad_(False)
    part.eval()
  return model.decoder


def new_note_head(features: int) -> torch.nn.Linear:
  """Starts near the labels' base rate (about 3 of 128 pitches held), so its first steps learn
  the notes rather than that most pitches are off. The weights stay random: their differences
  are what first pulls the encoder's frames of different notes apart."""
  head = torch.nn.Linear(features, NOTE_PITCHES)
  torch.nn.init.constant_(head.bias, math.log(3 / (NOTE_PITCHES - 3)))
  return head


LOSS_WEIGHTS = {'stft': 1.0, 'mel': 1.0, 'l1': 0.1}  # + beta for 'vq', OPTIONAL_TERMS, --note-weight 'notes'


def schedule(warmup: int, steps: int):
  def factor(step):
    if step < warmup:
      return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
  return factor


@torch.no_grad()
def evaluate(model, data: Shards, clips: range, seconds: float, device) -> dict:
  """Held-out metrics of encode -> decode with all 12 levels, as continuo plays it. The chroma
  of the decoded audio against the clip's note labels says whether the codes keep the
  pitches (an LM cannot follow notes its codes do not hold); the source's own chroma against
  the same labels is the ceiling (drums and voicing keep it below 1). The buzz at the STFT
  hop rate (metrics.periodic_buzz: ≈ 1 or less for music) shows frames that do not join; the
  phase-advance loss (0 when every bin turns as the source's, ≈ 2 at random) whether the
  pitch the codes hold reaches the audio. The held_* metrics decode the codes with each
  HOLD_FRAMES-th frame's codes held over the next ones, as an LM's codes stand nearly still
  through a held chord: a decoder must then turn each bin's phase by itself
  (phase_accumulate) or play the comb of the hop's harmonics."""
  config = model.config
  frames = min(data.samples_per_clip, int(seconds * config.sample_rate)) // config.frame_samples
  model.eval()

  def heard_notes(audio, notes):  # chroma precision / recall against per-frame note labels
    return metrics.chroma_adherence(audio, config.sample_rate, metrics.labelled_pitch_classes(notes, config.frame_rate))

  def hop_buzz(audio):
    return metrics.periodic_buzz(audio, config.sample_rate, config.hop)

  mel, sdr, chroma, source_chroma, buzz, phase, held_chroma, held_buzz = [], [], [], [], [], [], [], []
  for clip in clips:
    audio = np.asarray(data.audio(clip)[:frames * config.frame_samples], np.float32) / INT16_SCALE
    codes = model.encode(torch.from_numpy(audio.T.copy())[None].to(device))
    decoded = model.decode(codes)[0].T.cpu().numpy()  # frame t from codes <= t + lookahead
    mel.append(metrics.multires_mel_distance(audio, decoded, config.sample_rate))
    sdr.append(metrics.si_sdr(audio[:len(decoded)], decoded))
    notes = np.asarray(data[clip].notes)
    chroma.append(heard_notes(decoded, notes))
    source_chroma.append(heard_notes(audio, notes))
    buzz.append(hop_buzz(decoded))
    phase.append(float(phase_advance_loss(torch.from_numpy(decoded.T.copy()),
                                          torch.from_numpy(audio[:len(decoded)].T.copy()), config.fft_size, config.hop)))
    held = torch.arange(codes.shape[1]) // HOLD_FRAMES * HOLD_FRAMES
    held_decoded = model.decode(codes[:, held])[0].T.cpu().numpy()
    held_chroma.append(heard_notes(held_decoded, notes[held.numpy()]))
    held_buzz.append(hop_buzz(held_decoded))
  model.train()
  mean = lambda results, key: float(np.mean([r[key] for r in results]))
  return {'heldout_clips': len(clips), 'seconds_per_clip': frames * config.frame_samples / config.sample_rate,
          'multires_mel_distance': float(np.mean(mel)), 'si_sdr_db': float(np.mean(sdr)),
          'chroma_precision': mean(chroma, 'precision'), 'chroma_recall': mean(chroma, 'recall'),
          'source_chroma_precision': mean(source_chroma, 'precision'),
          'source_chroma_recall': mean(source_chroma, 'recall'), 'hop_buzz': float(np.mean(buzz)),
          'phase_advance_loss': float(np.mean(phase)), 'held_frames': HOLD_FRAMES,
          'held_chroma_precision': mean(held_chroma, 'precision'),
          'held_chroma_recall': mean(held_chroma, 'recall'), 'held_hop_buzz': float(np.mean(held_buzz))}


def main(argv=None) -> int:
  args = parse(argv)
  run = resumed_run(args) if args.resume else new_run(args)
  run_dir = args.resume or args.out
  config = config_from_json(run['config'])
  try:
    data = Shards(run['data'])
  except DatasetError as e:
    refuse(PROG, str(e))
  heldout = run['heldout'] if run['heldout'] is not None else max(1, round(0.05 * len(data)))
  run['heldout'] = heldout
  check(args, run, config, data, heldout)

  torch.set_num_threads(args.threads)
  torch.manual_seed(run['seed'])
  device = torch.device(args.device)
  model = SpectroStream(config)
  if run.get('init_package') and not args.resume:
    try:
      model.load_official(package_codec(run['init_package'], model.official_shapes()))
    except ValueError as e:
      refuse(PROG, f'--init-package {run["init_package"]}: {e}')
  model = model.to(device)
  trained = frozen_all_but_decoder(model) if run.get('decoder_only') else model
  optimizer = torch.optim.AdamW(trained.parameters(), lr=args.lr, weight_decay=args.weight_decay)
  scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule(args.warmup, args.steps))
  objects = {'model': model, 'optimizer': optimizer, 'scheduler': scheduler}
  optimizers, note_head = [optimizer], None
  if args.note_weight > 0:
    note_head = new_note_head(config.features).to(device)
    optimizers.append(torch.optim.AdamW(note_head.parameters(), lr=args.lr))
    objects.update(note_head=note_head, note_optimizer=optimizers[-1])
  rng = np.random.default_rng(run['seed'])
  adversary = None
  if args.adversarial_weight > 0:
    adversary = Adversary(args.adversary_frames, config, args.lr, rng, device)
    objects.update(discriminator=adversary.discriminator, discriminator_optimizer=adversary.optimizer)
  step, seconds_before = 0, 0.0
  if args.resume:
    step, extra = load_training_state(run_dir, objects, map_location=device,
                                      optional=('note_head', 'note_optimizer', 'discriminator',
                                                'discriminator_optimizer'))
    rng.bit_generator.state = extra['data_rng']
    seconds_before = extra['train_seconds']
    scheduler.lr_lambdas[0] = schedule(args.warmup, args.steps)  # --steps, --warmup may have changed
    for group in optimizer.param_groups:
      group['initial_lr'] = args.lr
  run_dir.mkdir(parents=True, exist_ok=True)
  (run_dir / RUN_FILE).write_text(json.dumps(run, indent=2) + '\n')  # what the run continues with

  train_clips = len(data) - heldout
  budget = TimeBudget(args.fit_minutes, step) if args.fit_minutes else None
  progress = Progress(args.steps, start_step=step, items_per_step=args.batch * args.crop_frames / config.frame_rate,
                      items='audio s', every=args.log_every)
  stop, began = StopRequest(), time.monotonic()
  print(f'{PROG}: {len(data)} clips ({data.seconds / 3600:.2f} h), {train_clips} for training, {heldout} held out; '
        f'config {run["preset"]} {" ".join(run["set"])}; {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M '
        f'parameters; step {step} of {args.steps}', file=sys.stderr, flush=True)

  def save():
    extra = {'data_rng': rng.bit_generator.state, 'train_seconds': seconds_before + time.monotonic() - began}
    save_training_state(run_dir, step, objects, extra)

  optional_weights = {name: getattr(args, f'{name}_weight') for name in OPTIONAL_TERMS}
  while step < args.steps:
    audio, notes = (t.to(device) for t in crops(data, train_clips, args.batch, args.crop_frames, rng))
    n_levels = level_counts(args.batch, config.lm_levels, args.quantizer_dropout, rng).to(device)
    terms, judged = loss_terms(model, audio, notes, n_levels, optional_weights, note_head, adversary)
    loss = (sum(LOSS_WEIGHTS[k] * terms[k] for k in LOSS_WEIGHTS) + args.beta * terms['vq']
            + sum(optional_weights[k] * terms[k] for k in OPTIONAL_TERMS if k in terms)
            + args.note_weight * terms.get('notes', 0.0)
            + args.adversarial_weight * (terms.get('adversarial', 0.0)
                                         + FEATURE_MATCHING_SCALE * terms.get('features', 0.0)))
    for each in optimizers:
      each.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(trained.parameters(), args.grad_clip)
    for each in optimizers:
      each.step()
    if adversary is not None:
      terms['discriminator'] = torch.tensor(adversary.step(*judged))
    scheduler.step()
    step += 1
    out_of_time = args.max_minutes is not None and time.monotonic() - began > 60 * args.max_minutes
    if budget is not None:
      if budget.lower_steps(step, args):
        scheduler.lr_lambdas[0] = schedule(args.warmup, args.steps)
        progress.total_steps = args.steps
      out_of_time = out_of_time or budget.out_of_time()
    checkpoint_now = step % args.checkpoint_every == 0 or stop.requested or out_of_time or step == args.steps
    progress.update(step, {'loss': loss.item(), **{k: v.item() for k, v in terms.items()},
                           'grad': grad_norm.item()}, force=checkpoint_now)
    if checkpoint_now:
      save()
    if (stop.requested or out_of_time) and step < args.steps:
      print(f'{PROG}: stopped at step {step}; continue with --resume {run_dir}', file=sys.stderr)
      return 0

  checkpoint.save(run_dir / WEIGHTS_FILE, model.to_official())
  result = {'config': run['config'], 'preset': run['preset'], 'set': run['set'], 'data': run['data'],
            'clips': len(data), 'train_clips': train_clips, 'steps': step, 'batch': args.batch,
            'crop_frames': args.crop_frames, 'device': args.device, 'threads': args.threads,
            'train_seconds': round(seconds_before + time.monotonic() - began, 1),
            'metrics': evaluate(model, data, range(train_clips, len(data)), args.eval_seconds, device)}
  (run_dir / METRICS_FILE).write_text(json.dumps(result, indent=2) + '\n')
  print(f'{PROG}: wrote {run_dir / WEIGHTS_FILE}; held-out {result["metrics"]}', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
