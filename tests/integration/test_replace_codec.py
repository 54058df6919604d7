"""tools/train/replace_codec.py on the tiny fixture checkpoint converted in bf16 (as the shipped
package is stored): a run that kept the package's codes (its codebooks) and changed its decoder,
in the phase_accumulate mode, gives a package whose LM is the old bytes, whose decoder is the
run's (stored bf16 as before), whose manifest differs only by codec_phase_accumulate = 1 and the
provenance, and which continuo loads and renders. A run whose codebooks moved is refused,
naming the tensor, and so is a non-empty --out. export_default.py's card says where a
decoder-only codec's encoder comes from. python3 + numpy; the render needs the build."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

import test_convert  # noqa: E402  (the tiny checkpoint and its conversion arguments)

REPO = Path(jf.REPO)
TOOL = REPO / 'tools' / 'train' / 'replace_codec.py'
sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'tools' / 'train'))
try:
  import numpy as np
  import mrt2_codec
  from convert_mrt2 import to_bf16
  from mrt2_torch import checkpoint
except ImportError as missing:  # numpy
  np = missing

failures = []


def case(name, ok, why):
  print(f"--- {name}: {'ok' if ok else 'FAILED: ' + why}", flush=True)
  if not ok:
    failures.append(f'{name}: {why}')


# What train_codec.py writes at the end of a run, as much as replace_codec.py reads.
RUN_METRICS = {'config': {'phase_accumulate': True, 'fft_size': 64, 'hop': 32, 'levels': 12, 'codebook': 16,
                          'features': 8},
               'preset': 'tiny', 'steps': 7, 'batch': 4, 'crop_frames': 32, 'device': 'cpu', 'threads': 2,
               'train_seconds': 60.0, 'train_clips': 190,
               'metrics': {'heldout_clips': 10, 'seconds_per_clip': 10.0, 'multires_mel_distance': 0.5,
                           'si_sdr_db': -20.0}}


def write_run(directory: Path, official: dict, changed: str):
  """A train_codec.py run directory double: its codec (official layout) with one tensor changed,
  run.json, metrics.json."""
  directory.mkdir()
  tensors = dict(official)
  tensors[changed] = tensors[changed] * 1.5 + 0.25
  checkpoint.save(directory / 'codec.safetensors', tensors)
  (directory / 'run.json').write_text(json.dumps({'config': RUN_METRICS['config']}))
  (directory / 'metrics.json').write_text(json.dumps(RUN_METRICS))


def tool(*args):
  r = subprocess.run([test_convert.PYTHON, str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=300)
  print(f'$ replace_codec.py {" ".join(map(str, args))}\n  rc={r.returncode}\n{r.stderr}', flush=True)
  return r


def check_replace(tmp: Path):
  package = tmp / 'tiny-bf16'
  if test_convert.converter(test_convert.TINY, str(package), *test_convert.TINY_ARGS, '--dtype', 'bf16').returncode:
    failures.append('the tiny checkpoint does not convert')
    return
  (package / 'MODEL_CARD.md').write_text('# tiny\n\n## LM\n\nrandom\n\n## Codec\n\nrandom\n\n## Licences\n\nnone\n')
  canonical = checkpoint.load(package / 'spectrostream.safetensors')
  tiny = {n: a for n, a in checkpoint.load(test_convert.TINY).items() if n.startswith('params/soundstream/')}
  official = mrt2_codec.official_codec(canonical, {n: a.shape for n, a in tiny.items()})  # what --init-package loads
  write_run(tmp / 'codec-d9', official, 'params/soundstream/decoder/output_layer/base_conv_last/conv/kernel')
  out = tmp / 'package'
  r = tool('--package', package, '--codec', tmp / 'codec-d9', '--out', out)
  case('a decoder-only run replaces the codec', r.returncode == 0, f'rc {r.returncode}')
  if r.returncode != 0:
    return
  same = [n for n in os.listdir(package) if n not in ('spectrostream.safetensors', 'model.toml', 'MODEL_CARD.md')]
  case('everything but the codec, manifest and card is copied byte for byte',
       sorted(os.listdir(out)) == sorted(os.listdir(package))
       and all((out / n).read_bytes() == (package / n).read_bytes() for n in same), f'files {sorted(os.listdir(out))}')
  old_header, _ = checkpoint.read_header(package / 'spectrostream.safetensors')
  new_header, _ = checkpoint.read_header(out / 'spectrostream.safetensors')
  case('each codec tensor keeps its storage type and shape',
       {n: (t['dtype'], t['shape']) for n, t in old_header.items()}
       == {n: (t['dtype'], t['shape']) for n, t in new_header.items()}, 'headers differ')
  new = checkpoint.load(out / 'spectrostream.safetensors')
  target = 'codec.output.kernel'
  moved = sorted(n for n in canonical if not np.array_equal(new[n], canonical[n]))
  want = (to_bf16(canonical[target] * 1.5 + 0.25).astype('<u4') << 16).view('<f4')
  case('only the run\'s decoder tensor changed, to its value in bf16',
       moved == [target] and np.array_equal(new[target], want), f'changed: {moved}')
  old_lines = (package / 'model.toml').read_text().splitlines()
  new_lines = (out / 'model.toml').read_text().splitlines()
  added = sorted(set(new_lines) - set(old_lines))
  removed = sorted(set(old_lines) - set(new_lines))
  case('the manifest gains codec_phase_accumulate = 1 and the run in its source, nothing else',
       len(added) == 2 and 'codec_phase_accumulate = 1' in added and len(removed) == 1
       and removed[0].startswith('source = ') and any('codec decoder: run codec-d9, step 7' in a for a in added),
       f'added {added}, removed {removed}')
  card = (out / 'MODEL_CARD.md').read_text()
  case('the model card\'s codec section names the run', 'run codec-d9' in card and '## LM' in card, card[-600:])
  takes = {}
  for name, model in (('old', package), ('new', out)):
    wav = tmp / f'{name}.wav'
    rendered = jf.run_cli(['render', '--model', str(model), '--seconds', '1', '--seed', '3', '--out', str(wav)],
                          timeout=120)
    takes[name] = jf.read_wav(wav) if rendered.returncode == 0 else None
    case(f'continuo renders the {name} package', takes[name] is not None, f'rc {rendered.returncode}: {rendered.stderr[-400:]}')
  if takes['old'] and takes['new']:
    rate, channels, samples = takes['new']
    case('the new package plays its own decoder: a second of sound unlike the old one\'s, same seed',
         len(samples) == rate * channels and any(samples) and samples != takes['old'][2],
         f'{len(samples)} samples at {rate} Hz x {channels}, equal to the old: {samples == takes["old"][2]}')

  write_run(tmp / 'codec-moved', official, 'params/soundstream/quantizer/embedding')
  r = tool('--package', package, '--codec', tmp / 'codec-moved', '--out', tmp / 'never')
  case('a run whose codebooks moved is refused, naming them',
       r.returncode == 2 and 'codec.rvq.embedding' in r.stderr and '--decoder-only' in r.stderr, f'rc {r.returncode}')
  r = tool('--package', package, '--codec', tmp / 'codec-d9', '--out', out)
  case('a non-empty --out is refused', r.returncode == 2 and 'not empty' in r.stderr, f'rc {r.returncode}')
  check_exported_card(tmp, package)


def check_exported_card(tmp: Path, package: Path):
  """export_default.py packages a decoder-only run with a new LM: its card says whose encoder
  and codebooks the codec keeps (run.json's start), a run from scratch says nothing of it."""
  import export_default
  started = json.loads((tmp / 'codec-d9' / 'run.json').read_text())
  (tmp / 'codec-d9' / 'run.json').write_text(json.dumps({**started, 'init_package': str(package), 'decoder_only': True}))
  decoder_only = export_default.codec_section(export_default.codec_run_of(tmp / 'codec-d9'))
  from_scratch = export_default.codec_section(export_default.codec_run_of(tmp / 'codec-moved'))
  case('an exported decoder-only codec names the package whose encoder it keeps',
       '`tiny-bf16`' in decoder_only[0] and '--decoder-only' in decoder_only[0] and decoder_only[1:] == from_scratch
       and not any('--decoder-only' in line for line in from_scratch), f'{decoder_only}')


def main() -> int:
  test_convert.PYTHON = test_convert.find_python()
  if isinstance(np, ImportError):
    print(f'SKIP: {np} (Debian: apt install python3-numpy)')
    return 77
  with tempfile.TemporaryDirectory(prefix='continuo-replace-') as tmp:
    check_replace(Path(tmp))
  for failure in failures:
    print('FAILED:', failure)
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
