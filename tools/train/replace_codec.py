#!/usr/bin/env python3
"""A model package with its codec's decoder replaced by a train_codec.py run's: the LM, the text
tower and everything else copied byte for byte.

  .venv-train/bin/python tools/train/replace_codec.py --package models/default \
      --codec /work/runs/codec-d1 --out /tmp/default-new

The run must have kept the package's codes: its encoder and codebooks equal to the package's
(train_codec.py --init-package PACKAGE --decoder-only does that), so the LM, trained on those
codes, still fits. The run's decoder may use another output mode (phase_accumulate, peak_phase): the
manifest's codec_* keys are the run's, [tensors] stays as it is (same names, same shapes), and
each codec tensor keeps the package's storage type. The provenance and the model card's codec
section say which run the decoder came from. This is how a better decoder joins a shipped
model whose LM run is gone. NumPy only.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools'))
sys.path.insert(0, str(ROOT / 'tools' / 'train'))
import convert_mrt2  # noqa: E402  (the package writer)
import export_default  # noqa: E402  (the run's codec tensors, the card's codec section)
from export_default import ExportError  # noqa: E402
import mrt2_codec  # noqa: E402
from mrt2_torch import checkpoint  # noqa: E402

CODEC_FILE = 'spectrostream.safetensors'
KEPT = 'codec.rvq.embedding'  # with codec.encoder.*: what the codes mean


def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--package', type=Path, required=True, help='the model package whose codec is replaced')
  ap.add_argument('--codec', type=Path, required=True, help='train_codec.py run directory (--decoder-only)')
  ap.add_argument('--out', type=Path, required=True, help='new package directory (new or empty)')
  return ap.parse_args(argv)


def new_codec(run: Path, sample_rate: int) -> tuple[dict, dict]:
  """The run's canonical codec.* tensors and codec_* keys."""
  try:
    return mrt2_codec.convert_codec(export_default.codec_tensors(run), sample_rate=sample_rate,
                                    output_mode=export_default.codec_output_mode(run))
  except ValueError as e:
    raise ExportError(f'{run}: {e}') from e


def check_same_codes(old: dict, new: dict, run: Path, package: Path):
  """Same tensors, same shapes, and the encoder and codebooks equal: the codes mean the same."""
  if {n: a.shape for n, a in old.items()} != {n: a.shape for n, a in new.items()}:
    differ = sorted(set(old) ^ set(new)) or sorted(n for n in old if old[n].shape != new[n].shape)
    raise ExportError(f'{run}: its codec has another layout than {package}\'s ({", ".join(differ[:5])})')
  moved = [n for n in old if (n == KEPT or n.startswith('codec.encoder.')) and not (old[n] == new[n]).all()]
  if moved:
    raise ExportError(f'{run}: {", ".join(moved[:5])} differ from {package}\'s, so its codes do not mean what '
                       f'the LM learnt; train it with --init-package {package} --decoder-only')


def write_codec(path: Path, tensors: dict, dtypes: dict):
  convert_mrt2.write_safetensors(path, [(n, a.shape, dtypes[n], (lambda a=a: a)) for n, a in sorted(tensors.items())])


def manifest_with(text: str, arch: dict, source_note: str) -> str:
  """model.toml text with the [architecture] codec_* lines replaced by `arch`'s (where the old
  ones stood) and `source_note` appended to [provenance] source."""
  lines = text.splitlines()
  first = next(i for i, line in enumerate(lines) if line.startswith('codec_'))
  kept = [line for line in lines if not line.startswith('codec_')]
  kept[first:first] = [f'{k} = {convert_mrt2._toml_value(v)}' for k, v in arch.items()]
  out, count = re.subn(r'^source = "(.*)"$', lambda m: f'source = "{m.group(1)}; {source_note}"',
                       '\n'.join(kept), count=1, flags=re.M)
  if count != 1:
    raise ExportError('model.toml: no [provenance] source line')
  return out + '\n'


def card_with(card: str, run: Path, metrics: dict, package: Path) -> str:
  """MODEL_CARD.md with its '## Codec' section saying where the encoder (the old section, kept)
  and the new decoder (the run, its metrics.json) come from."""
  found = re.search(r'^## Codec\n(.*?)(?=^## |\Z)', card, flags=re.M | re.S)
  if found is None:
    raise ExportError('MODEL_CARD.md: no "## Codec" section')
  output_mode = export_default.codec_output_mode(run)
  mode = f', output mode {output_mode}' if output_mode else ''
  body = ['Encoder and codebooks, unchanged, so the LM\'s codes mean what they meant:', found.group(1).strip(),
          f'Decoder: retrained alone on those codes (tools/train/train_codec.py --init-package {package.name} '
          f'--decoder-only, run {run.name}{mode}).'] + export_default.codec_section(metrics)
  return card[:found.start()] + '## Codec\n\n' + '\n\n'.join(body) + '\n\n' + card[found.end():]


def replace(package: Path, run: Path, out: Path):
  if out.exists() and any(out.iterdir()):
    raise ExportError(f'{out}: not empty; choose a new directory')
  manifest = (package / 'model.toml').read_text()
  rate = re.search(r'^codec_sample_rate = (\d+)$', manifest, re.M)
  if not (package / CODEC_FILE).is_file() or rate is None:
    raise ExportError(f'{package}: no codec ({CODEC_FILE} and codec_sample_rate)')
  header, _ = checkpoint.read_header(package / CODEC_FILE)
  old = checkpoint.load(package / CODEC_FILE)
  tensors, arch = new_codec(run, int(rate.group(1)))
  check_same_codes(old, tensors, run, package)
  out.mkdir(parents=True, exist_ok=True)
  for item in package.iterdir():
    if item.name not in (CODEC_FILE, 'model.toml', 'MODEL_CARD.md'):
      shutil.copy2(item, out / item.name)
  write_codec(out / CODEC_FILE, tensors, {n: header[n]['dtype'] for n in tensors})
  metrics = export_default.read_json(run / 'metrics.json')
  (out / 'model.toml').write_text(manifest_with(manifest, arch, f'codec decoder: run {run.name}, step {metrics["steps"]}'))
  if (package / 'MODEL_CARD.md').is_file():
    (out / 'MODEL_CARD.md').write_text(card_with((package / 'MODEL_CARD.md').read_text(), run, metrics, package))


def main(argv=None) -> int:
  args = parse_args(argv)
  try:
    replace(args.package, args.codec, args.out)
  except (ExportError, checkpoint.CheckpointError, OSError) as e:
    print(f'replace_codec: error: {e}', file=sys.stderr)
    return 2
  print(f'{args.out}: {args.package} with the decoder of {args.codec}', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
