#!/usr/bin/env python3
"""The codec trainer's note head (tools/train/train_codec.py --note-weight): crops start on a
frame boundary so that each frame's note labels belong to its audio; a run trained without the
head resumes with one; and the head, through the codec's quantized embedding, tells two tones
apart on a clip it never trained on. The adversary (--adversarial-weight): the windows it judges
are the same frames of the real and the decoded crop, and its discriminator, trained beside a
codec, scores held-out real tones above the codec's decoding of them. The magnitude term
(--magnitude-weight) scores the decoder's spectrum against the source's STFT frame for frame. The phase-advance loss
(--phase-weight) leaves a tone's absolute phase free and tells a semitone or frames of random
phase apart; and phase_resynthesis.py's versions show why it matters: a tone resynthesised with
random frame phases is heard as other pitch classes too, with its phase advances kept as
itself; the decoder's phase_accumulate mode turns magnitudes and advances back into the tone.
A decoder-only run from a package (--init-package, --decoder-only) keeps the package's encoder
and codebooks bit for bit, so the codes keep their meaning, and trains its decoder in another
output mode. Also the refusals of a negative weight, of a window longer than the crop, of
--decoder-only without a package or with the note head, and of a package of another layout,
before any compute.
Needs PyTorch: re-runs itself under $CONTINUO_TRAIN_PYTHON or .venv-train/bin/python
(tools/train/setup_env.sh); exits 77 (skipped) when there is neither."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_env import ensure_torch, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TRAIN_CODEC = ROOT / 'tools' / 'train' / 'train_codec.py'
TONES = {60: 261.63, 67: 392.00}  # MIDI pitch -> Hz, one per clip
CLIPS, SECONDS = 8, 3
HINGE_MARGIN = 1.0  # what the discriminator's hinge loss asks between real and decoded logits


def write_tone_dataset(directory: Path, np, config) -> None:
  """CLIPS clips of one sine tone each (pitches alternate), labelled with that pitch, in the
  tools/train/data format with the tiny codec's rate and frame."""
  samples = SECONDS * config.sample_rate
  frames = samples // config.frame_samples
  t = np.arange(samples) / config.sample_rate
  audio = np.empty((CLIPS, samples, 2), np.int16)
  notes = np.zeros((CLIPS, frames, 128), np.uint8)
  for clip in range(CLIPS):
    pitch = list(TONES)[clip % 2]
    audio[clip] = (8000 * np.sin(2 * np.pi * TONES[pitch] * t))[:, None].astype(np.int16)
    notes[clip, :, pitch] = 1
  np.savez(directory / 'shard-00000.npz', audio=audio, notes=notes, drums=np.zeros((CLIPS, frames), np.uint8),
           caption=np.array(['tone'] * CLIPS), style=np.zeros(CLIPS, np.int64), index=np.arange(CLIPS))
  manifest = {'format': 'continuo-train-data', 'format_version': 1,
              'audio': {'sample_rate': config.sample_rate, 'channels': 2, 'dtype': 'int16',
                        'samples_per_clip': samples},
              'labels': {'frame_samples': config.frame_samples, 'frames_per_clip': frames},
              'styles': ['tone'], 'shards': [{'file': 'shard-00000.npz', 'first_clip': 0, 'clips': CLIPS}]}
  (directory / 'manifest.json').write_text(json.dumps(manifest))


class FrameCountingData:
  """A dataset double whose audio sample values and note labels both count frames: frame f's
  samples are f and its label is pitch f."""
  channels, frame_samples, frames = 2, 4, 30
  samples_per_clip = frames * frame_samples

  def __init__(self, np):
    counting = np.repeat(np.arange(self.frames, dtype=np.int16), self.frame_samples)
    self._audio = np.stack([counting, counting], 1)
    self._notes = np.eye(128, dtype=np.uint8)[:self.frames]

  def audio(self, clip):
    return self._audio

  def __getitem__(self, clip):
    return type('Clip', (), {'notes': self._notes})


def check_crops_line_up(problems, np, train_codec):
  data = FrameCountingData(np)
  audio, notes = train_codec.crops(data, 1, 16, 5, np.random.default_rng(0))
  first_frame = (audio[:, 0, ::data.frame_samples] * train_codec.INT16_SCALE).round().long()
  if not (first_frame == notes.argmax(-1)).all() or notes.sum(-1).ne(1).any():
    problems.append(f'crops: audio frames {first_frame[0].tolist()}, labels {notes[0].argmax(-1).tolist()}')
  if len(set(first_frame[:, 0].tolist())) < 5:
    problems.append(f'crops start at only {sorted(set(first_frame[:, 0].tolist()))}')


def train(*flags):
  return subprocess.run([sys.executable, str(TRAIN_CODEC), *flags], capture_output=True, text=True)


def check_note_head(problems, np, torch, config, work: Path):
  data, run = work / 'tones', work / 'run'
  data.mkdir()
  write_tone_dataset(data, np, config)
  common = ['--threads', '1', '--heldout', '2', '--eval-seconds', '2.5', '--log-every', '1000']
  first = train('--data', str(data), '--out', str(run), '--config', 'tiny', '--steps', '10', '--batch', '4',
                '--crop-frames', '24', '--lr', '3e-3', '--warmup', '5', *common)
  if first.returncode != 0:
    problems.append(f'train without the head: exit {first.returncode}: {first.stderr[-400:]}')
    return
  resumed = train('--resume', str(run), '--steps', '300', '--note-weight', '10', *common)
  if resumed.returncode != 0:
    problems.append(f'resume with --note-weight: exit {resumed.returncode}: {resumed.stderr[-400:]}')
    return
  state = torch.load(run / 'training_state.pt', weights_only=False)['objects']
  head = torch.nn.Linear(config.features, 128)
  head.load_state_dict(state['note_head'])
  from mrt2_torch.spectrostream import SpectroStream
  model = SpectroStream(config)
  model.load_state_dict(state['model'])
  model.eval()
  from common.dataset import Shards
  shards = Shards(data)
  pitches = list(TONES)
  called = []
  with torch.no_grad():
    for clip in range(CLIPS - 2, CLIPS):  # the held-out clips, one of each tone
      audio = torch.from_numpy(shards.audio(clip).T / 32768.0).float()[None]
      logits = head(model.quantizer.decode(model.encode(audio)))[0][:, pitches]
      called.append(pitches[int(logits.mean(0).argmax())])
  truth = [pitches[clip % 2] for clip in range(CLIPS - 2, CLIPS)]
  print(f'note head on the held-out tones {truth}: heard {called}')
  if called != truth:
    problems.append(f'note head: held-out tones {truth} heard as {called}')


def check_decoder_only(problems, torch, config, data: Path, work: Path):
  """From the codec check_note_head trained, packaged by tools/mrt2_codec.py."""
  package = work / 'package'
  packaged = subprocess.run([sys.executable, str(ROOT / 'tools' / 'mrt2_codec.py'), 'package',
                             str(work / 'run' / 'codec.safetensors'), str(package),
                             '--sample-rate', str(config.sample_rate)], capture_output=True, text=True)
  if packaged.returncode != 0:
    problems.append(f'mrt2_codec.py package: exit {packaged.returncode}: {packaged.stderr[-400:]}')
    return
  common = ['--data', str(data), '--config', 'tiny', '--init-package', str(package), '--decoder-only',
            '--batch', '4', '--crop-frames', '24', '--threads', '1', '--heldout', '2', '--eval-seconds', '2.5',
            '--log-every', '1000']
  run = work / 'decoder-only'
  trained = train(*common, '--out', str(run), '--set', 'phase_accumulate=True', '--steps', '5', '--lr', '1e-2')
  if trained.returncode != 0:
    problems.append(f'train --decoder-only: exit {trained.returncode}: {trained.stderr[-400:]}')
    return
  from codec_run import package_codec
  from mrt2_torch.spectrostream import SpectroStream
  start = SpectroStream(config)
  start.load_official(package_codec(package, start.official_shapes()))
  after = torch.load(run / 'training_state.pt', weights_only=False)['objects']['model']
  changed = {name for name, value in start.state_dict().items() if not torch.equal(value, after[name])}
  moved_outside = sorted(name for name in changed if not name.startswith('decoder.'))
  print(f'--decoder-only: {len(changed)} tensors changed, outside the decoder: {moved_outside}')
  if moved_outside or not changed:
    problems.append(f'--decoder-only changed {moved_outside or "nothing"}: want the decoder and only it')
  run_json = json.loads((run / 'run.json').read_text())
  if not (run_json['decoder_only'] and run_json['config']['phase_accumulate']
          and run_json['init_package'] == str(package.resolve())):
    problems.append(f'run.json does not record the start: {run_json}')
  for flags, want in ((['--set', 'codebook=32'], 'does not fit'), (['--note-weight', '1'], '--note-weight')):
    refused = train(*common, '--out', str(work / 'never'), *flags)
    if refused.returncode != 2 or want not in refused.stderr:
      problems.append(f'--decoder-only {" ".join(flags)}: exit {refused.returncode}, stderr {refused.stderr.strip()[-300:]!r}')


def check_adversary_windows(problems, np, torch, train_codec):
  config = type('Config', (), {'sample_rate': 48000, 'frame_samples': 4})
  adversary = train_codec.Adversary(3, config, 1e-3, np.random.default_rng(0), 'cpu')
  real = torch.arange(40.0).repeat(2, 2, 1)  # [B, C, 10 frames of 4 samples]
  starts = set()
  for _ in range(32):
    window_real, window_fake = adversary.windows(real, -real)
    start = int(window_real[0, 0, 0])
    starts.add(start)
    if window_real.shape[-1] != 12 or start % 4 or not torch.equal(window_fake, -window_real):
      problems.append(f'adversary windows: {window_real[0, 0].tolist()} / {window_fake[0, 0].tolist()}')
      return
  if starts != {0, 4, 8, 12, 16, 20, 24, 28}:
    problems.append(f'adversary windows start at {sorted(starts)}, not every frame of the crop')


def check_phase_advance_loss(problems, np, torch):
  """At the default codec's STFT (960 / 480 at 48 kHz) a tone shifted in phase scores as itself,
  and the same magnitudes with each frame's phase drawn at random score as a tone a semitone off."""
  from mrt2_torch.losses import phase_advance_loss
  fft, hop, rate = 960, 480, 48000
  t = torch.arange(rate) / rate
  tone = lambda hz, phase=0.0: torch.sin(2 * np.pi * hz * t + phase)[None, None]  # noqa: E731
  window = torch.hann_window(fft)
  spectrum = torch.stft(tone(440)[0], fft, hop, window=window, return_complex=True)
  random_phase = torch.exp(2j * np.pi * torch.rand(spectrum.shape, generator=torch.Generator().manual_seed(0)))
  scrambled = torch.istft(spectrum.abs() * random_phase, fft, hop, window=window, length=rate)[None]
  scores = {name: phase_advance_loss(other, tone(440), fft, hop).item()
            for name, other in (('phase-shifted', tone(440, 1.0)), ('semitone', tone(440 * 2 ** (1 / 12))),
                                ('random frame phases', scrambled))}
  if not (scores['phase-shifted'] < 0.1 and scores['semitone'] > 1.5 and scores['random frame phases'] > 1.5):
    problems.append(f'phase-advance loss against a 440 Hz tone: {scores}')


def check_magnitude_term(problems, torch, train_codec, config):
  """--magnitude-weight scores the decoder's own spectrum against the source's STFT frame for
  frame: a decoder that outputs exactly the source's STFT from its first heard frame on (which
  the inverse STFT turns back into the audio it is scored against, after the first hop, whose
  overlap is missing) scores 0, and the same output one frame late scores well above."""
  from mrt2_torch.spectrostream import Reconstruction, SpectroStream
  torch.manual_seed(0)
  codec = SpectroStream(config)
  frames = 40  # the STFT losses' longest window (2048) fits
  t = torch.arange(frames * config.frame_samples) / config.sample_rate
  tones = torch.rand(2, 2, 3, 1) * config.sample_rate / 4  # well below Nyquist, whose bin the STFT drops
  audio = 0.1 * torch.sin(2 * torch.pi * tones * t + 6 * torch.rand(2, 2, 3, 1)).sum(2)
  heard = (frames - config.lookahead) * config.stft_frames

  class SourceSpectrum(torch.nn.Module):  # a decoder double: the source's STFT, `late` frames late
    def __init__(self, late):
      super().__init__()
      self.config, self.stft, self.late = config, codec.stft, late

    def forward(self, audio, n_levels):
      spectrum = torch.roll(codec.stft(audio)[:, :, :heard], self.late, 2)
      return Reconstruction(codec.istft(spectrum), spectrum, torch.zeros(2, frames, config.features),
                            None, torch.zeros(()))

  def magnitude_term(late):
    terms, _ = train_codec.loss_terms(SourceSpectrum(late), audio, None, None, {'magnitude': 1.0}, None, None)
    return terms['magnitude'].item(), terms['l1'].item()

  (exact, exact_l1), (late, _) = magnitude_term(0), magnitude_term(1)
  rebuilt = SourceSpectrum(0)(audio, None).audio[..., config.hop:]
  error = (rebuilt - audio[..., config.hop:rebuilt.shape[-1] + config.hop]).abs().max().item()
  print(f"magnitude term {exact:.3g}, late {late:.3g}, rebuild error {error:.3g}")
  if not (exact < 1e-4 and late > 0.3 and error < 1e-2 * audio.abs().max().item()):
    problems.append(f'magnitude term: {exact:.3g} on the source\'s own STFT, {late:.3g} one frame late; '
                    f'that STFT rebuilds the audio to {error:.3g} (waveform L1 {exact_l1:.3g})')


def check_phase_resynthesis(problems, np, torch):
  """Each test tone from its own magnitudes: heard as its pitch class alone with its phase
  advances kept, as other classes too with random frame phases."""
  import metrics
  import phase_resynthesis
  for pitch, hz in TONES.items():
    t = torch.arange(SECONDS * 48000) / 48000
    tone = 0.25 * torch.sin(2 * np.pi * hz * t)[None]
    versions = phase_resynthesis.versions(tone, phase_resynthesis.Stft(960, 480), torch.Generator().manual_seed(0))
    precision = {name: metrics.chroma_adherence(audio.T.numpy(), 48000, lambda _: {pitch % 12})['precision']
                 for name, audio in versions.items()}
    if not (precision['source'] == precision['kept_advance'] == 1.0 and precision['random_phase'] < 0.5):
      problems.append(f'{hz} Hz resynthesised, chroma precision {precision}')


def check_streaming_is_delayed(problems, torch, config, mode: str):
  """In an output mode, as without one, the streaming decoder is the whole-sequence one delayed
  by the lookahead, whose frames are silent."""
  from mrt2_torch.spectrostream import SpectroStream
  torch.manual_seed(0)
  model = SpectroStream(config.replace(**{mode: True})).eval()
  codes = torch.randint(0, config.codebook, (1, 6, config.lm_levels))
  with torch.no_grad():
    whole, streamed = model.decode(codes), model.decode_streaming(codes)
  delay = config.lookahead * config.frame_samples
  if not (torch.equal(streamed[..., delay:], whole) and not streamed[..., :delay].any()):
    problems.append(f'{mode}: decode_streaming is not decode delayed by the lookahead')


def check_phase_accumulate(problems, np, torch, config):
  """The phase_accumulate output mode (spectrostream.accumulate_phase): a tone's spectrum given
  as its magnitudes and per-frame phase advances comes back exactly; a frame of zeros keeps the
  gradient finite; and the streaming decoder is the whole-sequence one delayed, as without it."""
  from mrt2_torch.spectrostream import Stft, accumulate_phase
  fft, hop, rate = 960, 480, 48000
  t = torch.arange(rate // 2) / rate
  tone = 0.25 * torch.sin(2 * np.pi * 440 * t + 0.7)[None, None].repeat(1, 2, 1)
  spectrum = Stft(fft, hop)(tone)  # [1, 4, frames, bins]: (re, im) per channel
  z = torch.complex(spectrum[:, 0::2], spectrum[:, 1::2]).to(torch.complex128)
  previous = torch.cat([torch.ones_like(z[:, :, :1]), z[:, :, :-1]], 2)
  advance = torch.angle(z) - torch.angle(previous) * (torch.arange(z.shape[2]) > 0)[:, None]
  given = torch.polar(z.abs(), advance)
  decoder_output = torch.stack([given.real, given.imag], 2).reshape(spectrum.shape).float()
  error = (accumulate_phase(decoder_output) - spectrum).abs().max().item()
  if not error < 1e-3 * spectrum.abs().max().item():
    problems.append(f'accumulate_phase of a 440 Hz tone given as magnitudes and advances: off by {error}')
  silent = decoder_output.clone().requires_grad_()
  with torch.no_grad():
    silent[:, :, 3] = 0
  accumulate_phase(silent).square().sum().backward()
  if not torch.isfinite(silent.grad).all():
    problems.append('accumulate_phase: a silent frame gives a non-finite gradient')
  check_streaming_is_delayed(problems, torch, config, 'phase_accumulate')


def check_peak_phase(problems, np, torch, config):
  """The peak_phase output mode (spectrostream.peak_phase): a tone's magnitudes given with random
  phases come back turning at the tone's frequency, 440.3 Hz, between bins of the 1920-point
  STFT (the phase advance of its strongest bin over a hop within 0.1 rad of the tone's: 0.04 rad
  here, from the parabola's ~0.04-bin bias; the random phases themselves are off by radians); and
  the streaming decoder is the whole-sequence one delayed."""
  from mrt2_torch.spectrostream import InverseStft, Stft, peak_phase
  fft, hop, rate, hz = 1920, 960, 48000, 440.3
  t = torch.arange(rate // 2) / rate
  tone = 0.25 * torch.sin(2 * np.pi * hz * t)[None, None].repeat(1, 2, 1)
  spectrum = Stft(fft, hop)(tone)  # [1, 4, frames, bins]: (re, im) per channel
  random = torch.polar(torch.complex(spectrum[:, 0::2], spectrum[:, 1::2]).abs(),
                       2 * np.pi * torch.rand(spectrum[:, 0::2].shape, generator=torch.Generator().manual_seed(0)))
  given = torch.stack([random.real, random.imag], 2).reshape(spectrum.shape)
  want = 2 * np.pi * hz * hop / rate

  def advance_error(decoder_output):  # at the strongest bin, over the middle frames
    audio = InverseStft(fft, hop)(decoder_output)
    z = torch.view_as_complex(Stft(fft, hop)(audio)[0, :2].permute(1, 2, 0).contiguous())
    k = int(z.abs().mean(0).argmax())
    turns = torch.angle(z[5:-5, k][1:] * z[5:-5, k][:-1].conj()).double()
    return float((torch.remainder(turns - want + np.pi, 2 * np.pi) - np.pi).abs().max())

  locked, unlocked = advance_error(peak_phase(given)), advance_error(given)
  if not (locked < 0.1 and unlocked > 0.5):
    problems.append(f'peak_phase of a {hz} Hz tone: phase advance off by {locked:.3f} rad '
                    f'(random phases: {unlocked:.3f})')
  check_streaming_is_delayed(problems, torch, config, 'peak_phase')


def check_adversary_learns(problems, torch, config, data: Path, work: Path):
  run = work / 'adversarial'
  trained = train('--data', str(data), '--out', str(run), '--config', 'tiny', '--steps', '60', '--batch', '4',
                  '--crop-frames', '24', '--lr', '2e-3', '--warmup', '5', '--adversarial-weight', '1',
                  '--adversary-frames', '8', '--threads', '1', '--heldout', '2', '--eval-seconds', '2.5',
                  '--log-every', '1000')
  if trained.returncode != 0:
    problems.append(f'train with --adversarial-weight: exit {trained.returncode}: {trained.stderr[-400:]}')
    return
  state = torch.load(run / 'training_state.pt', weights_only=False)['objects']
  from mrt2_torch.discriminator import StftDiscriminator
  from mrt2_torch.spectrostream import SpectroStream
  from common.dataset import Shards
  discriminator, model = StftDiscriminator(config.sample_rate), SpectroStream(config)
  discriminator.load_state_dict(state['discriminator'])
  model.load_state_dict(state['model'])
  model.eval()
  shards = Shards(data)
  with torch.no_grad():
    real = torch.cat([torch.from_numpy(shards.audio(clip).T / 32768.0).float()[None]
                      for clip in range(CLIPS - 2, CLIPS)])
    decoded = model.decode(model.encode(real))
    real = real[..., :decoded.shape[-1]]
    scores = [(r[-1].mean().item(), f[-1].mean().item()) for r, f in zip(discriminator(real), discriminator(decoded))]
  print(f'discriminator logits on held-out (real, decoded) per resolution: {scores}')
  if not all(r - f > HINGE_MARGIN for r, f in scores):
    problems.append(f'the discriminator does not score real tones a hinge margin above decoded ones: {scores}')


def check_fitted_run(problems, data: Path, work: Path):
  """--fit-minutes: a run asked for 10^6 steps ends within its minutes, with its weights and
  held-out metrics, at the step it fitted (the GPU machine's calls, tools/train/gpu_train.sh)."""
  run = train('--data', str(data), '--out', str(work / 'fitted'), '--config', 'tiny', '--steps', '1000000',
              '--batch', '2', '--crop-frames', '24', '--warmup', '5', '--fit-minutes', '0.1', '--threads', '1',
              '--heldout', '2', '--eval-seconds', '2.5', '--log-every', '1000')
  if run.returncode != 0 or not (work / 'fitted' / 'codec.safetensors').is_file():
    problems.append(f'--fit-minutes: exit {run.returncode}, no weights: {run.stderr[-400:]}')
    return
  metrics = json.loads((work / 'fitted' / 'metrics.json').read_text())
  said = f'the run ends at step {metrics["steps"]}'
  print(f'--fit-minutes 0.1: {said}, {metrics["train_seconds"]} s')
  if said not in run.stderr or metrics['steps'] >= 1000000:
    problems.append(f'--fit-minutes: metrics.json steps {metrics["steps"]}; stderr {run.stderr[-300:]!r}')


def check_refusal(problems, data: Path, work: Path):
  for flags, name in ((['--note-weight', '-1'], '--note-weight'), (['--phase-weight', '-1'], '--phase-weight'),
                      (['--magnitude-weight', '-1'], '--magnitude-weight'),
                      (['--fit-minutes', '0'], '--fit-minutes'),
                      (['--adversarial-weight', '1', '--crop-frames', '24', '--adversary-frames', '40'],
                       '--adversary-frames'), (['--decoder-only'], '--init-package')):
    run = train('--data', str(data), '--out', str(work / 'never'), '--config', 'tiny', *flags)
    if run.returncode != 2 or name not in run.stderr:
      problems.append(f'{" ".join(flags)}: exit {run.returncode}, stderr {run.stderr.strip()[-200:]!r}')


def main() -> int:
  ensure_torch(__file__)
  import numpy as np
  import torch
  sys.path.insert(0, str(ROOT / 'tools' / 'train'))
  import train_codec  # also puts tools/eval on the path
  from mrt2_torch.spectrostream_config import TINY
  torch.set_num_threads(1)
  problems = []
  check_crops_line_up(problems, np, train_codec)
  check_adversary_windows(problems, np, torch, train_codec)
  check_phase_advance_loss(problems, np, torch)
  check_magnitude_term(problems, torch, train_codec, TINY)
  check_phase_resynthesis(problems, np, torch)
  check_phase_accumulate(problems, np, torch, TINY)
  check_peak_phase(problems, np, torch, TINY)
  with tempfile.TemporaryDirectory() as work:
    check_note_head(problems, np, torch, TINY, Path(work))
    check_decoder_only(problems, torch, TINY, Path(work) / 'tones', Path(work))
    check_adversary_learns(problems, torch, TINY, Path(work) / 'tones', Path(work))
    check_fitted_run(problems, Path(work) / 'tones', Path(work))
    check_refusal(problems, Path(work) / 'tones', Path(work))
  return report(problems, 'crops line up with their labels; the note head joins a resumed run and hears the tones; '
                          'the adversary judges matching windows and tells real tones from decoded ones; '
                          'the phase-advance loss hears pitch and random phases, not a phase shift; '
                          'the magnitude term scores the decoder\'s spectrum frame for frame; '
                          'phase_accumulate rebuilds a tone from its advances; peak_phase turns a tone\'s bins at its '
                          'frequency; a decoder-only run keeps the codes; '
                          'a fitted run ends on time with its weights')


if __name__ == '__main__':
  sys.exit(main())
