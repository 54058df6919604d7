#!/usr/bin/env python3
"""Packages the bundled model: codec + LM (+ text tower) -> a continuo model package with a
model card (docs/training-lm.md, "Export").

  .venv-train/bin/python tools/train/export_default.py --codec CODEC_RUN --lm LM_RUN \
      [--style STYLE_DIR] [--dtype f32|bf16] --out models/default

--codec: a train_codec.py run directory (codec.safetensors, metrics.json, run.json: a codec
trained in an output mode of continuo's own, phase_accumulate or peak_phase, is packaged with
codec_<mode> = 1) or official-layout
SpectroStream weights (params/soundstream/... or params/...); --lm: a train_lm.py run
(depthformer.safetensors, lm.json); --style: a train_style.py output (text_tower.safetensors,
text_vocab.txt, text_tower.toml, style.json). The card quotes the runs' metrics and the
manifests of the datasets they name (soundfont and its licence, clip counts). The LM and
codec go through tools/convert_mrt2.py, so the package is read exactly like a converted
official one.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'train'))
from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.spectrostream_config import OUTPUT_MODES  # noqa: E402

NAME = 'continuo-default'
# Our weights, under the licence upstream gives its MRT2 weights: a user moving between the
# official models and this one meets the same terms (attribution, no other restriction), and
# the attribution line travels in model.toml, which continuo prints at load.
LICENCE = 'CC-BY-4.0'
ATTRIBUTION = ('continuo default model, trained by continuo (tools/train), licensed under '
               'CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)')
STYLE_FILES = ('text_tower.safetensors', 'text_vocab.txt')


class ExportError(ValueError):
  pass


def parse_args(argv):
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                               formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--codec', type=Path, required=True)
  ap.add_argument('--lm', type=Path, required=True, help='train_lm.py run directory')
  ap.add_argument('--style', type=Path, help='train_style.py output directory')
  ap.add_argument('--dtype', choices=('f32', 'bf16'), default='bf16',
                  help='weight storage (bf16: the default LM fits the 64 MB budget and runs faster)')
  ap.add_argument('--out', type=Path, required=True, help='package directory (new or empty)')
  return ap.parse_args(argv)


def read_json(path: Path) -> dict:
  if not path.is_file():
    raise ExportError(f'{path}: missing')
  return json.loads(path.read_text())


def codec_tensors(path: Path) -> dict:
  """The codec under params/soundstream/, whichever official layout the file uses; a
  train_codec.py run directory means its codec.safetensors."""
  if path.is_dir():
    path = path / 'codec.safetensors'
  if not path.is_file():
    raise ExportError(f'{path}: missing')
  tensors = checkpoint.load(path)
  out = {}
  for name, array in tensors.items():
    if name.startswith('params/soundstream/'):
      out[name] = array
    elif name.startswith('params/') and not name.startswith('params/depthformer/'):
      out['params/soundstream/' + name.removeprefix('params/')] = array
  if 'params/soundstream/quantizer/embedding' not in out:
    raise ExportError(f'{path}: no SpectroStream quantizer (params/soundstream/quantizer/embedding)')
  return out


def codec_output_mode(path: Path) -> str | None:
  """The output mode the codec was trained in, phase_accumulate or peak_phase (continuo's own:
  the package must say codec_<mode> = 1), or None: a train_codec.py run's run.json config says
  so, also beside a codec.safetensors given as a file; official weights are always None."""
  run = (path if path.is_dir() else path.parent) / 'run.json'
  if not path.is_dir() and not run.is_file():
    return None
  config = read_json(run)['config']
  return next((mode for mode in OUTPUT_MODES if config.get(mode, False)), None)


def check_match(codec: dict, lm: dict):
  levels, codebook, _ = codec['params/soundstream/quantizer/embedding'].shape
  arch = lm['architecture']
  if codebook != arch['codebook'] or levels < arch['levels']:
    raise ExportError(f'codec has {levels} levels of {codebook} codes; the LM predicts '
                      f'{arch["levels"]} levels of {arch["codebook"]}: not the codec it was trained on')


def convert(merged: dict, lm: dict, out: Path, dtype: str, source: str, output_mode: str | None):
  arch = lm['architecture']
  with tempfile.TemporaryDirectory(prefix='export_default.') as tmp:
    ckpt = Path(tmp) / f'{NAME}.safetensors'
    checkpoint.save(ckpt, merged)
    subprocess.run([sys.executable, ROOT / 'tools' / 'convert_mrt2.py', ckpt, out,
                    '--horizons', f'{arch["temporal_self_horizon"]},{arch["temporal_cross_horizon"]}',
                    '--dtype', dtype, '--name', NAME, '--codec-sample-rate', '48000',
                    '--licence', LICENCE, '--attribution', ATTRIBUTION, '--source', source]
                   + (['--codec-output-mode', output_mode] if output_mode else []),
                   check=True)


def add_text_tower(style: Path, out: Path):
  for name in STYLE_FILES + ('text_tower.toml',):
    if not (style / name).is_file():
      raise ExportError(f'{style / name}: missing (run tools/train/train_style.py)')
  for name in STYLE_FILES:
    shutil.copyfile(style / name, out / name)
  with open(out / 'model.toml', 'a') as f:
    f.write('\n' + (style / 'text_tower.toml').read_text())


# ---- the model card --------------------------------------------------------------------

def data_section(datasets: dict[str, dict]) -> list[str]:
  """One paragraph per dataset: `datasets` maps what it trained ('codec', 'LM') to a manifest."""
  if not datasets:
    return ['No dataset manifest was given to the exporter.']
  lines = []
  for role, data in datasets.items():
    config, font = data['config'], data['soundfont']
    hours = config['clips'] * config['seconds'] / 3600
    lines.append(f'{role}: {config["clips"]} procedurally composed clips of {config["seconds"]:g} s '
                 f'({hours:.2f} h, seed {config["seed"]}) in {len(data["styles"])} styles '
                 f'({", ".join(data["styles"])}), rendered at 48 kHz by '
                 f'{data["versions"][data.get("synth", "fluidsynth")]} with the soundfont `{Path(font["path"]).name}` '
                 f'(sha256 {font["sha256"][:16]}…). Labels: per-frame note state, drum flag, caption '
                 '(tools/train/data, docs/training-data.md).')
  return lines


def training_datasets(codec_run: dict | None, lm: dict) -> dict[str, dict]:
  """What trained what -> its manifest, for datasets still on this machine."""
  segments = lm['metrics'].get('segments') or [{'data': lm['training'].get('data')}]
  lm_paths = list(dict.fromkeys(segment['data'] for segment in segments))
  paths = {('LM' if len(lm_paths) == 1 else f'LM ({i + 1} of {len(lm_paths)})'): path
           for i, path in enumerate(lm_paths)}
  if codec_run:
    paths = {'Codec': codec_run.get('data'), **paths}
  if len(paths) == 2 and 'LM' in paths and paths['Codec'] == paths['LM']:
    paths = {'Codec and LM': paths['LM']}
  return {role: read_json(Path(path) / 'manifest.json') for role, path in paths.items()
          if path and (Path(path) / 'manifest.json').is_file()}


def codec_run_of(codec: Path) -> dict | None:
  """A train_codec.py run's metrics.json, with where run.json says it started; None for weights
  given as a file."""
  if not codec.is_dir():
    return None
  start = read_json(codec / 'run.json')
  return {**read_json(codec / 'metrics.json'),
          **{key: start[key] for key in ('init_package', 'decoder_only') if start.get(key)}}


def codec_section(run: dict | None) -> list[str]:
  """From train_codec.py's metrics.json: what was trained, how long, how well."""
  if run is None:
    return ['Metrics: see docs/training-codec.md and docs/models.md.']
  config, held_out = run['config'], run['metrics']
  start = ([f'Encoder and codebooks those of the package `{Path(run["init_package"]).name}` it started from, '
            'frozen; its decoder trained alone on their codes (train_codec.py --init-package --decoder-only).']
           if run.get('decoder_only') else [])
  return start + [f'SpectroStream-family codec (`{run["preset"]}` config: STFT {config["fft_size"]}/'
          f'{config["hop"]}, {config["levels"]} RVQ levels of {config["codebook"]} codes, '
          f'{config["features"]} features), trained {run["steps"]} steps of {run["batch"]} crops × '
          f'{run["crop_frames"]} frames on `{run["device"]}` ({run["threads"]} threads), '
          f'{run["train_seconds"] / 3600:.2f} h wall over all its sessions; {run["train_clips"]} clips, '
          f'{held_out["heldout_clips"]} held out.',
          f'Held-out encode → decode ({held_out["heldout_clips"]} clips × '
          f'{held_out["seconds_per_clip"]:g} s): multi-resolution mel distance '
          f'{held_out["multires_mel_distance"]:.3f}, SI-SDR {held_out["si_sdr_db"]:.1f} dB.']


def style_section(style: dict | None) -> list[str]:
  if style is None:
    return ['No text tower in this package.']
  tower, training = style['tower'], style['training']
  return [f'Text tower (docs/text-tower.md): words and character {tower["ngram_min"]}–'
          f'{tower["ngram_max"]}-grams hashed into {tower["buckets"]} buckets, {tower["word_dims"]}-d '
          f'word vectors, {tower["hidden_dims"]}-d hidden layer, 768-d embedding, 12 RVQ codebooks '
          f'of {tower["codebook"]}; vocabulary of {style["vocabulary"]} words.',
          f'Trained {training["steps"]} steps on {style["captions"]} captions of {style["clips"]} clips '
          f'({style["wall_seconds"] / 60:.1f} min); {style["distinct_clip_token_sets"]} distinct '
          f'token sets over the clips; nearest style centroid right for '
          f'{style["style_nearest_centroid_accuracy"]:.0%} of captions.']


def lm_section(lm: dict) -> list[str]:
  arch, train, metrics = lm['architecture'], lm['training'], lm['metrics']
  validation = metrics['validation'][-1] if metrics['validation'] else None
  lines = [f'Depthformer, {lm["parameters"] / 1e6:.1f} M parameters: temporal '
           f'{arch["temporal_layers"]} × {arch["temporal_dims"]}, depth {arch["depth_layers"]} × '
           f'{arch["depth_dims"]}, horizons {arch["temporal_self_horizon"]}/'
           f'{arch["temporal_cross_horizon"]} frames.',
           f'Trained {lm["step"]} steps of {train["batch"]} windows × {train["window"]} frames on '
           f'`{train["device"]}` ({train["threads"]} threads), '
           f'{metrics.get("wall_seconds", 0) / 3600:.2f} h wall; AdamW lr {train["lr"]}, token '
           f'dropout {train["token_dropout"]} per {train["token_dropout_unit"]}, CFG bins held at '
           f'{train["cfg_bins"]}.']
  segments = metrics.get('segments', [])
  if len(segments) > 1:
    ends = [segment['from_step'] for segment in segments[1:]] + [lm['step']]
    lines.append('In stretches: ' + '; '.join(
        f'steps {segment["from_step"]}–{end} on {Path(segment["data"]).name} (codes {segment["codes"]})'
        for segment, end in zip(segments, ends)) + '.')
  if validation:
    lines.append(f'Held-out cross-entropy ({train["validation_clips"]} clips) at step '
                 f'{validation["step"]}: {validation["loss"]:.3f} nats per token; per level '
                 + ', '.join(f'{x:.2f}' for x in validation['per_level']) + '.')
  return lines


def model_card(lm, style, datasets, codec_run) -> str:
  fonts = sorted({Path(d['soundfont']['path']).name for d in datasets.values()}) or ['see the dataset manifest']
  sections = [
      ('Model', [f'`{NAME}`: a Magenta RealTime 2-family model (SpectroStream codec + '
                 'Depthformer LM + text tower) trained by continuo, from scratch, on synthetic '
                 'music. No pretrained weights and no recorded audio went into it.']),
      ('Data', data_section(datasets)),
      ('LM', lm_section(lm)),
      ('Codec', codec_section(codec_run)),
      ('Style', style_section(style)),
      ('Licences', [
          f'Weights: {LICENCE}, "{ATTRIBUTION}". Chosen like upstream\'s MRT2 weights, so the '
          'same terms hold whichever model a user loads.',
          f'Training audio was rendered with `{", ".join(fonts)}`; the Debian soundfonts are MIT-licensed '
          '(docs/training-data.md, "Soundfonts and licences"). The soundfont is not shipped; the '
          'model holds no samples of it.',
          'Code: continuo (tools/train), Apache-2.0.']),
  ]
  out = [f'# {NAME}', '']
  for title, lines in sections:
    out += [f'## {title}', ''] + [line + '\n' for line in lines]
  return '\n'.join(out)


def main(argv=None):
  args = parse_args(argv)
  try:
    if args.out.exists() and any(args.out.iterdir()):
      raise ExportError(f'{args.out}: not empty; choose a new directory')
    lm = read_json(args.lm / 'lm.json')
    lm_tensors = checkpoint.load(args.lm / 'depthformer.safetensors')
    codec = codec_tensors(args.codec)
    check_match(codec, lm)
    style = read_json(args.style / 'style.json') if args.style else None
    codec_run = codec_run_of(args.codec)
    datasets = training_datasets(codec_run, lm)
    source = f'tools/train (trained by continuo; LM run {args.lm.name}, step {lm["step"]})'
    convert({**lm_tensors, **codec}, lm, args.out, args.dtype, source, codec_output_mode(args.codec))
    if args.style:
      add_text_tower(args.style, args.out)
    (args.out / 'MODEL_CARD.md').write_text(model_card(lm, style, datasets, codec_run))
  except (ExportError, checkpoint.CheckpointError) as e:
    print(f'export_default: error: {e}', file=sys.stderr)
    return 2
  print(f'{args.out}: package with MODEL_CARD.md', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
