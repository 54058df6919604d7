#!/usr/bin/env python3
"""SpectroStream decoder + quantizer (+ encoder): official parameters -> continuo's `codec.*` tensors.

Imported by tools/convert_mrt2.py (`convert_codec`) and runnable standalone:

  tools/mrt2_codec.py names tests/fixtures/mrt2/names_spectrostream.txt
      shape-only check of a name list (path<TAB>shape<TAB>dtype), prints the architecture
  tools/mrt2_codec.py package CHECKPOINT.safetensors OUT_DIR [--sample-rate HZ] [--output-mode MODE] ...
      writes a codec-only model package (model.toml + codec.safetensors)

Official parameters are found under `params/soundstream/{decoder,quantizer}/...` (the LM
checkpoints, the tiny fixture) or `params/{decoder,quantizer,encoder}/...` (the standalone
SpectroStream files); anything else (Depthformer) is ignored. The encoder is optional: when
its parameters are present they become `codec.encoder.*` tensors and `codec_encoder_*` keys
too; without them the output is exactly the decoder's. Canonical names,
kernels kept in the official [kt, kf, cin, cout] layout (docs/spectrostream.md):

  codec.rvq.embedding            [levels, codebook, features]  first `levels` quantizers
  codec.input.{proj,b1,b2}.*     decoder/input_layer 1x1 convs
  codec.input.{res_a,res_b}.*    decoder/input_layers_residual_unit 3x3 convs
  codec.block{i}.{up,conv,skip}.* decoder/decoder_{i}: transposed conv, 3x3 conv, 1x1 shortcut
  codec.output.*                 decoder/output_layer/base_conv_last
  codec.encoder.input.*          encoder/base_conv_first (k x k, per channel group)
  codec.encoder.block{i}.{conv,down,skip}.*  encoder/encoder_{i}: conv2d_3x3, the strided
                                 conv2d_{kt}x{kf}_a, shortcut_layer/conv1x1
  codec.encoder.bottleneck.{conv,conv_a,skip}.*  encoder/bottleneck
  codec.encoder.output.{proj,b1,b2}.*  encoder/output_convs: conv1x1_last, shortcut b1, b2
(each conv as `.kernel` and `.bias`).

The hyper-parameters are read off the shapes (strides from the transposed-conv kernel sizes
max(3, 2*stride), the channel split from the first block whose input is a fraction of the
previous block's output). What shapes cannot tell is a keyword: sample rate, STFT hop
(default fft_size / 2, as every official config), decoder lookahead, LM levels, and
output_mode (default None; continuo's own output modes, never an official checkpoint: a codec
trained with SpectroStreamConfig.phase_accumulate, whose output conv emits magnitudes and phase
advances, gets `codec_phase_accumulate = 1`, which continuo integrates with
kernels/phase_accumulate; one trained with peak_phase, whose output conv's magnitudes alone
count, `codec_peak_phase = 1`, phased by kernels/peak_phase).

numpy + stdlib only.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

LM_LEVELS = 12
OUTPUT_MODES = ('phase_accumulate', 'peak_phase')  # continuo's own: codec_<mode> = 1
_PREFIXES = ('params/soundstream/', 'params/')
_INPUT = {
    'input_layer/conv1x1_first/conv': 'codec.input.proj',
    'input_layer/shortcut_layer/conv1x1_b1/conv': 'codec.input.b1',
    'input_layer/shortcut_layer/conv1x1_b2/conv': 'codec.input.b2',
    'input_layers_residual_unit/conv2d_3x3_a/conv': 'codec.input.res_a',
    'input_layers_residual_unit/conv2d_3x3/conv': 'codec.input.res_b',
    'output_layer/base_conv_last/conv': 'codec.output',
}
_BLOCK = re.compile(r'decoder_(\d+)/(conv2dtranspose_(\d+)x(\d+)|conv2d_3x3|shortcut_layer/conv1x1)/conv$')
_BLOCK_PART = {'conv2d_3x3': 'conv', 'shortcut_layer/conv1x1': 'skip'}
_ENCODER = {
    'base_conv_first/conv': 'codec.encoder.input',
    'bottleneck/conv2d_3x3/conv': 'codec.encoder.bottleneck.conv',
    'bottleneck/conv2d_3x3_a/conv': 'codec.encoder.bottleneck.conv_a',
    'bottleneck/shortcut_layer/conv1x1/conv': 'codec.encoder.bottleneck.skip',
    'output_convs/conv1x1_last/conv': 'codec.encoder.output.proj',
    'output_convs/shortcut_layer/conv1x1_b1/conv': 'codec.encoder.output.b1',
    'output_convs/shortcut_layer/conv1x1_b2/conv': 'codec.encoder.output.b2',
}
_ENCODER_BLOCK = re.compile(r'encoder_(\d+)/(conv2d_3x3|conv2d_(\d+)x(\d+)_a|shortcut_layer/conv1x1)/conv$')


def _strip(name: str) -> str | None:
  """The path below params/[soundstream/], if it is a decoder, quantizer or encoder parameter."""
  for prefix in _PREFIXES:
    if name.startswith(prefix):
      rest = name[len(prefix):]
      if rest.startswith(('decoder/', 'quantizer/', 'encoder/')):
        return rest
  return None


def _canonical(path: str) -> str:
  """codec.* name of one official decoder/quantizer path (ValueError if unknown)."""
  if path == 'quantizer/embedding':
    return 'codec.rvq.embedding'
  if path.startswith('encoder/'):
    return _encoder_canonical(path)
  module, _, leaf = path.removeprefix('decoder/').rpartition('/')
  if leaf not in ('kernel', 'bias') or not path.startswith('decoder/'):
    raise ValueError(f'unexpected SpectroStream parameter {path!r}')
  if module in _INPUT:
    return f'{_INPUT[module]}.{leaf}'
  m = _BLOCK.fullmatch(module)
  if not m:
    raise ValueError(f'unexpected SpectroStream parameter {path!r}')
  part = 'up' if m.group(3) else _BLOCK_PART[m.group(2)]
  return f'codec.block{m.group(1)}.{part}.{leaf}'


def _encoder_canonical(path: str) -> str:
  """codec.encoder.* name of one official encoder path (ValueError if unknown)."""
  module, _, leaf = path.removeprefix('encoder/').rpartition('/')
  if leaf in ('kernel', 'bias'):
    if module in _ENCODER:
      return f'{_ENCODER[module]}.{leaf}'
    m = _ENCODER_BLOCK.fullmatch(module)
    if m:
      part = 'down' if m.group(3) else _BLOCK_PART[m.group(2)]
      return f'codec.encoder.block{m.group(1)}.{part}.{leaf}'
  raise ValueError(f'unexpected SpectroStream parameter {path!r}')


def _encoder_architecture(shapes: dict[str, tuple[int, ...]], arch: dict[str, int | float]
                          ) -> dict[str, int]:
  """codec_encoder_* hyper-parameters from the encoder's canonical shapes (the STFT, RVQ
  width and channel grouping of the decoder's keys are shared)."""
  def shape(name: str) -> tuple[int, ...]:
    if name not in shapes:
      raise ValueError(f'missing SpectroStream encoder parameter for {name}')
    return shapes[name]

  k, kf, cin, base = shape('codec.encoder.input.kernel')
  if k != kf:
    raise ValueError(f'encoder base conv {shape("codec.encoder.input.kernel")} is not square')
  out = {'codec_encoder_base_kernel': k, 'codec_encoder_base_channels': base}
  blocks = sum(1 for n in shapes if n.startswith('codec.encoder.block') and n.endswith('.down.kernel'))
  bins, previous, splits, merge = arch['codec_bins'], base, 1, -1
  for i in range(blocks + 1):  # the bottleneck last
    name = f'codec.encoder.block{i}' if i < blocks else 'codec.encoder.bottleneck'
    width = shape(f'{name}.conv.kernel')[2]
    if width != previous:  # ParallelChannels: the groups' channels concatenated here
      if merge >= 0 or width % previous:
        raise ValueError(f'encoder block {i}: unsupported channel merge {previous} -> {width}')
      splits, merge = width // previous, i
    if i < blocks:
      kt, kf, _, cout = shape(f'{name}.down.kernel')
      st, sf = _stride(kt, f'encoder_{i} time'), _stride(kf, f'encoder_{i} frequency')
      out.update({f'codec_encoder_block{i}_time_stride': st,
                  f'codec_encoder_block{i}_freq_stride': sf,
                  f'codec_encoder_block{i}_channels': cout})
      bins, previous = bins // sf, cout
  if cin * splits != arch['codec_channels']:
    raise ValueError(f'encoder input {cin} channels x {splits} groups is not the '
                     f'{arch["codec_channels"]} STFT channels')
  flat, features = shape('codec.encoder.output.proj.kernel')[2:]
  if flat != bins * shape('codec.encoder.bottleneck.conv_a.kernel')[3] or features != arch['codec_features']:
    raise ValueError(f'encoder output convs {shape("codec.encoder.output.proj.kernel")} do not follow '
                     f'{bins} bins and {arch["codec_features"]} features')
  out.update({'codec_encoder_blocks': blocks, 'codec_encoder_splits': splits,
              'codec_encoder_merge_block': merge, 'codec_encoder_bins': bins})
  return out


def _stride(kernel: int, where: str) -> int:
  """The stride whose official resample kernel is max(3, 2*stride)."""
  stride = 1 if kernel == 3 else kernel // 2
  if max(3, 2 * stride) != kernel:
    raise ValueError(f'{where}: kernel size {kernel} is not max(3, 2*stride)')
  return stride


def _architecture(shapes: dict[str, tuple[int, ...]], *, sample_rate: int, hop: int | None,
                  lookahead: int, levels: int, output_mode: str | None) -> dict[str, int | float]:
  """codec_* hyper-parameters from canonical name -> shape."""
  def shape(name: str) -> tuple[int, ...]:
    if name not in shapes:
      raise ValueError(f'missing SpectroStream parameter for {name}')
    return shapes[name]

  quantizers, codebook, features = shape('codec.rvq.embedding')
  if quantizers < levels:
    raise ValueError(f'quantizer has {quantizers} levels, fewer than {levels}')
  width = shape('codec.input.res_b.kernel')[3]
  proj = shape('codec.input.proj.kernel')[3]
  if proj % width:
    raise ValueError(f'input projection width {proj} is not a multiple of {width} channels')
  arch: dict[str, int | float] = {
      'codec_sample_rate': sample_rate, 'codec_levels': levels, 'codec_codebook': codebook,
      'codec_features': features, 'codec_input_bins': proj // width,
      'codec_input_channels': width, 'codec_lookahead': lookahead,
  }
  blocks = sum(1 for n in shapes if n.startswith('codec.block') and n.endswith('.up.kernel'))
  bins, frames, previous, splits, split_block = proj // width, 1, width, 1, -1
  for i in range(blocks):
    kt, kf, cin, cout = shape(f'codec.block{i}.up.kernel')
    st, sf = _stride(kt, f'decoder_{i} time'), _stride(kf, f'decoder_{i} frequency')
    if cin != previous:  # ParallelChannels: the groups see a fraction of the channels
      if split_block >= 0 or previous % cin:
        raise ValueError(f'decoder_{i}: unsupported channel split {previous} -> {cin}')
      splits, split_block = previous // cin, i - 1
    arch.update({f'codec_block{i}_time_stride': st, f'codec_block{i}_freq_stride': sf,
                 f'codec_block{i}_channels': cout})
    bins, frames, previous = bins * sf, frames * st, cout
  kt, kf, cin, per_group = shape('codec.output.kernel')
  if cin != previous or kt != kf:
    raise ValueError(f'output conv {shape("codec.output.kernel")} does not follow the blocks')
  fft_size = 2 * bins  # keep_dc: the Nyquist bin is dropped
  hop = fft_size // 2 if hop is None else hop
  arch.update({
      'codec_blocks': blocks, 'codec_splits': splits, 'codec_split_block': split_block,
      'codec_output_kernel': kt, 'codec_channels': per_group * splits, 'codec_bins': bins,
      'codec_fft_size': fft_size, 'codec_hop': hop, 'codec_frame_samples': frames * hop,
  })
  if output_mode is not None:  # absent otherwise: packages of the official layout stay as they were
    arch[f'codec_{output_mode}'] = 1
  return arch


def _plan(names_and_shapes, **options):
  """(official name -> canonical name, canonical name -> shape, architecture)."""
  rename, shapes = {}, {}
  for name, shp in names_and_shapes:
    path = _strip(name)
    if path is None:
      continue
    canon = _canonical(path)
    if canon in shapes:
      raise ValueError(f'{canon} found twice (second: {name})')
    rename[name], shapes[canon] = canon, tuple(int(d) for d in shp)
  if not shapes:
    raise ValueError('no SpectroStream decoder/quantizer parameters found')
  decoder_shapes = {k: v for k, v in shapes.items() if not k.startswith('codec.encoder.')}
  arch = _architecture(decoder_shapes, **options)
  if len(decoder_shapes) < len(shapes):
    arch.update(_encoder_architecture(shapes, arch))
  shapes['codec.rvq.embedding'] = (arch['codec_levels'],) + shapes['codec.rvq.embedding'][1:]
  return rename, shapes, arch


def _options(sample_rate=48000, hop=None, lookahead=1, levels=LM_LEVELS, output_mode=None):
  if output_mode not in (None,) + OUTPUT_MODES:
    raise ValueError(f'output mode {output_mode!r}: expected one of {", ".join(OUTPUT_MODES)}')
  return {'sample_rate': sample_rate, 'hop': hop, 'lookahead': lookahead, 'levels': levels,
          'output_mode': output_mode}


def convert_codec(official: dict[str, np.ndarray], **options
                  ) -> tuple[dict[str, np.ndarray], dict[str, int | float]]:
  """Canonical codec.* tensors (float32, contiguous) and codec_* architecture entries.

  options: sample_rate (48000), hop (fft_size // 2), lookahead (1), levels (12),
  output_mode (None, or one of OUTPUT_MODES).
  """
  rename, _, arch = _plan(((k, v.shape) for k, v in official.items()), **_options(**options))
  tensors = {}
  for name, canon in rename.items():
    value = np.asarray(official[name], dtype=np.float32)
    if canon == 'codec.rvq.embedding':
      value = value[:arch['codec_levels']]
    tensors[canon] = np.ascontiguousarray(value)
  return tensors, arch


def official_codec(canonical: dict[str, np.ndarray], official_shapes: dict[str, tuple[int, ...]]
                   ) -> dict[str, np.ndarray]:
  """The way back: a package's codec.* tensors under the official names of `official_shapes`
  (the layout of the codec they should load into). ValueError listing every tensor that is
  missing or misshapen."""
  rename, _, _ = _plan(official_shapes.items(), **_options())
  out, problems = {}, []
  for name, canon in sorted(rename.items()):
    if canon not in canonical:
      problems.append(f'{canon} (for {name}): missing')
    elif tuple(canonical[canon].shape) != tuple(official_shapes[name]):
      problems.append(f'{canon}: shape {tuple(canonical[canon].shape)}, {name} needs {tuple(official_shapes[name])}')
    else:
      out[name] = canonical[canon]
  if problems:
    raise ValueError('the codec does not fit: ' + '; '.join(problems))
  return out


def check_codec_names(names_and_shapes, **options
                      ) -> tuple[dict[str, tuple[int, ...]], dict[str, int | float]]:
  """Shape-only conversion of (name, shape) pairs: canonical shapes and architecture.

  Raises ValueError naming the first parameter the converter cannot place.
  """
  _, shapes, arch = _plan(names_and_shapes, **_options(**options))
  return shapes, arch


# ---- files ---------------------------------------------------------------------------------

_DTYPES = {'F32': np.float32, 'I32': np.int32, 'I16': np.int16, 'U32': np.uint32}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
  data = Path(path).read_bytes()
  (n,) = struct.unpack('<Q', data[:8])
  header = json.loads(data[8:8 + n])
  out = {}
  for name, info in header.items():
    if name == '__metadata__':
      continue
    begin, end = info['data_offsets']
    raw = data[8 + n + begin:8 + n + end]
    out[name] = np.frombuffer(raw, dtype=_DTYPES[info['dtype']]).reshape(info['shape'])
  return out


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
  """F32 tensors in name order, header padded to 8 bytes (every tensor 4-aligned)."""
  header, offset = {}, 0
  for name in sorted(tensors):
    size = tensors[name].size * 4
    header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape),
                    'data_offsets': [offset, offset + size]}
    offset += size
  text = json.dumps(header, separators=(',', ':')).encode()
  text += b' ' * (-len(text) % 8)
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text)
    for name in sorted(tensors):
      f.write(np.ascontiguousarray(tensors[name], dtype='<f4').tobytes())


def write_codec_package(out: Path, tensors, arch, *, name: str, source: str, licence: str,
                        audio_rate: int, frame_rate: float) -> None:
  """A codec-only package: [audio] is what model.toml requires (8000 Hz or more); the
  decoder itself runs at codec_sample_rate."""
  out.mkdir(parents=True, exist_ok=True)
  write_safetensors(out / 'codec.safetensors', tensors)
  lines = [
      '[package]', f'name = "{name}"', 'family = "mrt2"', 'format_version = 1',
      'weights = ["codec.safetensors"]', '', '[audio]', f'sample_rate = {audio_rate}',
      'channels = 2', f'frame_rate = {frame_rate!r}', '', '[provenance]', f'source = "{source}"',
      f'licence = "{licence}"', 'attribution = "SpectroStream (Magenta RealTime 2) by Google DeepMind"',
      '', '[architecture]',
  ] + [f'{k} = {v}' for k, v in sorted(arch.items())]
  (out / 'model.toml').write_text('\n'.join(lines) + '\n')


def _read_names(path: Path):
  for line in Path(path).read_text().splitlines():
    if line and not line.startswith('#'):
      name, shape, _ = line.split('\t')
      yield name, tuple(int(d) for d in shape.split('x'))


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  sub = p.add_subparsers(dest='command', required=True)
  names = sub.add_parser('names', help='shape-only check of a path<TAB>shape<TAB>dtype list')
  names.add_argument('list', type=Path)
  pkg = sub.add_parser('package', help='write a codec-only model package')
  pkg.add_argument('checkpoint', type=Path)
  pkg.add_argument('out', type=Path)
  pkg.add_argument('--name', default='spectrostream')
  pkg.add_argument('--source', default='official SpectroStream checkpoint')
  pkg.add_argument('--licence', default='CC-BY-4.0', help='the weights\' licence')
  pkg.add_argument('--audio-rate', type=int, default=48000, help='[audio] sample_rate')
  pkg.add_argument('--frame-rate', type=float, default=25.0, help='[audio] frame_rate')
  for sp in (names, pkg):
    sp.add_argument('--sample-rate', type=int, default=48000, help='codec_sample_rate')
    sp.add_argument('--lookahead', type=int, default=1)
    sp.add_argument('--output-mode', choices=OUTPUT_MODES,
                    help='the codec was trained in this output mode (codec_<mode> = 1)')
  args = p.parse_args(argv)
  options = {'sample_rate': args.sample_rate, 'lookahead': args.lookahead, 'output_mode': args.output_mode}
  if args.command == 'names':
    shapes, arch = check_codec_names(_read_names(args.list), **options)
    print(f'{len(shapes)} codec tensors')
  else:
    tensors, arch = convert_codec(read_safetensors(args.checkpoint), **options)
    write_codec_package(args.out, tensors, arch, name=args.name, source=args.source,
                        licence=args.licence, audio_rate=args.audio_rate, frame_rate=args.frame_rate)
    print(f'{args.out}: {len(tensors)} codec tensors')
  for k, v in sorted(arch.items()):
    print(f'  {k} = {v}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
