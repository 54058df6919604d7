#!/usr/bin/env python3
"""tools/train/codec_ceiling.py: the adherence measures on real audio as played and through a
codec. A codec that gives its input back scores exactly what the audio scores as played; an
untrained codec of the bundled model's layout loses the chord piece's pitch classes; the style
ceiling judges every held-out clip both ways; a run directory that is not one is refused with
its path, before any compute.
Needs PyTorch and FluidSynth: re-runs itself under $CONTINUO_TRAIN_PYTHON or
.venv-train/bin/python (tools/train/setup_env.sh); exits 77 (skipped) without either."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_env import ensure_torch, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOUNDFONT = Path('/usr/share/sounds/sf2/FluidR3_GM.sf2')


class Identity:
  """A codec whose codes are its input: what passes through it is the audio as played."""

  @staticmethod
  def encode(audio):
    return audio

  @staticmethod
  def decode(codes):
    return codes


def build(out: Path, clips: int, seed: int) -> None:
  subprocess.run([sys.executable, str(ROOT / 'tools' / 'train' / 'data' / 'build.py'), '--out', str(out),
                  '--clips', str(clips), '--seconds', '2', '--seed', str(seed), '--jobs', '1',
                  '--soundfont', str(SOUNDFONT)], check=True, capture_output=True)


def main() -> int:
  if shutil.which('fluidsynth') is None or not SOUNDFONT.exists():
    print('fluidsynth or FluidR3_GM.sf2 missing: skipping (make deps installs both)')
    return 77
  ensure_torch(__file__)
  import torch
  sys.path.insert(0, str(ROOT / 'tools' / 'train'))
  import codec_ceiling
  from common.dataset import Shards
  from mrt2_torch.spectrostream import SpectroStream
  from mrt2_torch.spectrostream_config import DEFAULT
  torch.manual_seed(1)
  torch.set_num_threads(1)
  problems = []
  with tempfile.TemporaryDirectory() as work:
    data, heldout = Path(work) / 'data', Path(work) / 'heldout'
    build(data, 24, 1)
    build(heldout, 12, 2)

    same = codec_ceiling.midi_ceiling(Identity, data)
    if same['through_codec'] != same['played'] or same['played']['precision'] < 0.8:
      problems.append(f'midi through an identity codec: {same}')
    untrained = codec_ceiling.midi_ceiling(SpectroStream(DEFAULT).eval(), data)
    if untrained['through_codec']['precision'] > untrained['played']['precision'] - 0.3:
      problems.append(f'midi through an untrained codec keeps the pitch classes: {untrained}')

    style = codec_ceiling.style_ceiling(Identity, Shards(data), Shards(heldout))
    if style['clips'] != 12 or style['seconds'] != 2.0 or style['through_codec'] != style['played']:
      problems.append(f'style through an identity codec: {style}')

    refused = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train' / 'codec_ceiling.py'),
                              '--codec', str(Path(work) / 'no-run'), '--data', str(data), '--heldout', str(heldout)],
                             capture_output=True, text=True)
    if refused.returncode != 2 or 'no-run' not in refused.stderr:
      problems.append(f'a missing run: exit {refused.returncode}, stderr {refused.stderr.strip()[-200:]!r}')
  return report(problems, 'an identity codec scores as played; an untrained one loses the pitch classes; a missing run is refused')


if __name__ == '__main__':
  sys.exit(main())
