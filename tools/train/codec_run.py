"""What train_codec.py and tokenize_dataset.py share: the codec config a run uses, its
receptive field, and loading a finished run's codec.

A run directory (train_codec.py --out) holds:
  run.json             the config (SpectroStreamConfig fields) and the arguments that started it
  training_state.pt    model, optimizer, schedule, step, RNGs (common/state.py), for --resume
  codec.safetensors    the final weights, official raw layout (params/soundstream/..., encoder too)
  metrics.json         config, data, compute and held-out metrics of the final weights
"""

from __future__ import annotations

import json
import math
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/: the package converter
import mrt2_codec  # noqa: E402
from mrt2_torch import checkpoint  # noqa: E402
from mrt2_torch.spectrostream_config import PRESETS, SpectroStreamConfig, resample_kernel

RUN_FILE = 'run.json'
WEIGHTS_FILE = 'codec.safetensors'
METRICS_FILE = 'metrics.json'


def config_to_json(config: SpectroStreamConfig) -> dict:
  return {k: getattr(config, k) for k in config.__dataclass_fields__}


def config_from_json(fields: dict) -> SpectroStreamConfig:
  tuples = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
            for k, v in fields.items() if isinstance(v, list)}
  return SpectroStreamConfig(**{**fields, **tuples}).validate()


def make_config(preset: str, changes: dict) -> SpectroStreamConfig:
  """PRESETS[preset] with --set changes; ValueError with every problem when invalid."""
  unknown = sorted(set(changes) - set(SpectroStreamConfig.__dataclass_fields__))
  if unknown:
    raise ValueError(f'unknown config fields {unknown}; fields are '
                     + ', '.join(SpectroStreamConfig.__dataclass_fields__))
  return PRESETS[preset].replace(**changes).validate()


def receptive_field_frames(config: SpectroStreamConfig) -> int:
  """Token frames of past audio one decoded frame depends on (encoder + decoder history,
  rounded up): a training crop shorter than this never shows the model the context it
  uses when streaming."""
  history = config.encoder_base_kernel - 1  # in STFT frames; the input conv
  unit = 1  # STFT frames per activation frame at the current depth
  for block in config._encoder_plan():
    history += 2 * unit + (resample_kernel(block.time_stride) - 1) * unit  # 3x3 conv, strided conv
    unit *= block.time_stride
  history += 2 * 2 * unit  # decoder input residual unit: two 3x3 convs at token rate
  for block in config.decoder_blocks:
    unit //= block.time_stride
    history += (resample_kernel(block.time_stride) - 1) * unit + 2 * unit  # transposed conv, 3x3 conv
  history += config.decoder_base_kernel - 1
  return math.ceil(history / config.stft_frames)


def load_run_codec(run_dir):
  """(config, official-layout tensors, run.json) of a finished run."""
  run_dir = Path(run_dir)
  run_path, weights = run_dir / RUN_FILE, run_dir / WEIGHTS_FILE
  for path in (run_path, weights):
    if not path.is_file():
      raise FileNotFoundError(f'{path}: missing (is {run_dir} a finished train_codec.py run?)')
  run = json.loads(run_path.read_text())
  return config_from_json(run['config']), checkpoint.load(weights), run


def package_codec(package, official_shapes: dict[str, tuple[int, ...]]) -> dict:
  """The codec of a continuo model package (its codec.* tensors, bf16 widened) under the official
  names of `official_shapes`, to load into a SpectroStream of that layout. ValueError naming the
  file, or each tensor that is missing or misshapen."""
  package = Path(package)
  manifest = package / 'model.toml'
  try:
    files = tomllib.loads(manifest.read_text())['package']['weights']
  except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
    raise ValueError(f'{manifest}: not a model package ({e})') from e
  canonical = {}
  for name in files:
    try:
      canonical.update(checkpoint.load(package / name, prefix='codec.'))
    except (OSError, checkpoint.CheckpointError) as e:
      raise ValueError(str(e)) from e
  if not canonical:
    raise ValueError(f'{package}: no codec.* tensors in {", ".join(files)}')
  return mrt2_codec.official_codec(canonical, official_shapes)
