#!/usr/bin/env python3
"""tools/musiccoca/convert.py on the stand-in TFLite files (tests/fixtures/musiccoca/), text
and audio paths: it writes the committed package (so the fixtures are not stale) and a
[musiccoca] section with the audio keys, refuses a file with an op continuo does not run
(exit 2, the op named, nothing written), and refuses when continuo's runner disagrees with
ai-edge-litert (exit 1, nothing written).
Needs ai-edge-litert: re-runs itself under $CONTINUO_COCA_PYTHON or .venv-coca/bin/python
(tools/musiccoca/setup_env.sh); exits 77 (skipped) when there is neither."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_env import ensure_litert  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / 'tests' / 'fixtures' / 'musiccoca'
CONVERT = ROOT / 'tools' / 'musiccoca' / 'convert.py'


def convert(package: Path, text_encoder: Path, runner: str,
            music_encoder: Path = FIXTURE / 'music_encoder.tflite') -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, str(CONVERT), '--text-encoder', str(text_encoder),
                         '--quantizer', str(FIXTURE / 'quantizer.tflite'), '--spm', str(FIXTURE / 'spm.model'),
                         '--audio-preprocessor', str(FIXTURE / 'audio_preprocessor.tflite'),
                         '--music-encoder', str(music_encoder),
                         '--runner', runner, str(package)], capture_output=True, text=True, check=False)


def lying_runner(scratch: Path, runner: str) -> str:
  """continuo's runner with its embeddings scaled by 1.001: a disagreement the check must catch."""
  script = scratch / 'lying_runner.py'
  script.write_text(f'''#!{sys.executable}
import subprocess, sys
out = subprocess.run([{runner!r}] + sys.argv[1:], stdin=sys.stdin, capture_output=True, text=True).stdout
for line in out.splitlines():
    words = line.split()
    if words[0] == 'embedding':
        words[1:] = [repr(float(w) * 1.001) for w in words[1:]]
    print(' '.join(words))
''')
  script.chmod(0o755)
  return str(script)


def main() -> int:
  ensure_litert(__file__)
  runner = os.environ.get('CONTINUO_MUSICCOCA', str(ROOT / 'build' / 'model' / 'continuo-musiccoca'))
  problems = []
  with tempfile.TemporaryDirectory() as scratch:
    scratch = Path(scratch)
    package = scratch / 'package'
    package.mkdir()
    shutil.copyfile(ROOT / 'tests' / 'fixtures' / 'mrt2' / 'tiny' / 'package' / 'model.toml', package / 'model.toml')
    done = convert(package, FIXTURE / 'text_encoder.tflite', runner)
    if done.returncode != 0:
      problems.append(f'the stand-ins did not convert ({done.returncode}): {done.stderr}')
    else:
      for committed in sorted((FIXTURE / 'package').iterdir()):
        if not (package / committed.name).exists() or (package / committed.name).read_bytes() != committed.read_bytes():
          problems.append(f'{committed.name}: differs from the committed fixture (tools/musiccoca/make_fixtures.py)')
      manifest = (package / 'model.toml').read_text()
      if '[musiccoca]' not in manifest or 'music_encoder = "musiccoca_music_encoder.graph.toml"' not in manifest:
        problems.append('model.toml: no [musiccoca] section with the audio path appended')
      print(done.stdout.strip())

    refused = scratch / 'refused'
    done = convert(refused, FIXTURE / 'custom_op.tflite', runner)
    if done.returncode != 2 or "op CUSTOM 'MysteryOp' (1x, at op 0) is not one continuo runs" not in done.stderr:
      problems.append(f'a CUSTOM op: exit {done.returncode}, {done.stderr!r}')
    if refused.exists():
      problems.append('a CUSTOM op: the package directory was written')

    done = convert(refused, FIXTURE / 'text_encoder.tflite', runner, music_encoder=FIXTURE / 'custom_op.tflite')
    if done.returncode != 2 or "custom_op.tflite: op CUSTOM 'MysteryOp' (1x, at op 0)" not in done.stderr:
      problems.append(f'a CUSTOM op as the music encoder: exit {done.returncode}, {done.stderr!r}')
    if refused.exists():
      problems.append('a CUSTOM op as the music encoder: the package directory was written')

    done = convert(refused, FIXTURE / 'text_encoder.tflite', lying_runner(scratch, runner))
    if done.returncode != 1 or "'warm" not in done.stderr or 'a C major chord: embedding relative error' not in done.stderr:
      problems.append(f'a runner off by 0.1%: exit {done.returncode}, {done.stderr!r}')
    if refused.exists():
      problems.append('a runner off by 0.1%: the package directory was written')
    towered = scratch / 'towered'
    shutil.copytree(ROOT / 'tests' / 'fixtures' / 'text_tower' / 'package', towered)
    before = (towered / 'model.toml').read_bytes()
    done = convert(towered, FIXTURE / 'text_encoder.tflite', runner)
    if done.returncode != 2 or 'has a [text_tower]' not in done.stderr:
      problems.append(f'a package with a text tower: exit {done.returncode}, {done.stderr!r}')
    if (towered / 'model.toml').read_bytes() != before:
      problems.append('a package with a text tower: its model.toml was changed')
  for problem in problems:
    print(problem)
  return 1 if problems else 0


if __name__ == '__main__':
  sys.exit(main())
