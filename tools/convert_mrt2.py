#!/usr/bin/env python3
"""Converts an official Magenta RealTime 2 raw checkpoint into a continuo model package.

  tools/convert_mrt2.py mrt2_small.safetensors models/mrt2_small [--dtype bf16]
  tools/convert_mrt2.py --check-names tests/fixtures/mrt2/names_mrt2_small.txt

The checkpoint is the official `<model>.safetensors` ('/'-joined JAX parameter paths,
`params/depthformer/...`, `params/soundstream/...`). The package is a directory with
model.toml (docs/model-package.md) and safetensors files holding continuo's canonical
tensors (docs/models.md): dense weights row-major [out, in], attention projections
flattened to [heads*dim, in] / [model, heads*dim], so the runtime never transposes.

The SpectroStream part is converted by tools/mrt2_codec.py (convert_codec) when that
module exists; without it the package holds the Depthformer only, and this tool says so.

--check-names maps every tensor of a names list (path<TAB>shape<TAB>dtype, no weights) and
fails on any unmapped or unexpected name, printing the canonical shapes.

Needs only numpy and the standard library (Debian: python3-numpy).
"""

import argparse
import importlib.util
import json
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

DF = 'params/depthformer/'
SS = 'params/soundstream/'
ENC = DF + 'encoder/body/'
STYLE = ENC + 'layers_1/branched_mulan_embedder/mulan_embedder/'
REGULAR = ENC + 'layers_1/branched_regular_embedder/regular_embedder/embedding'
DEC = DF + 'decoder/'
EMBEDDING = DEC + 'decoder_embedding/embedding/embedding'
TEMPORAL = DEC + 'temporal_body/transformer/x_layers_'
DEPTH = DEC + 'depth_body/'

# MRT2 family constants (magenta_rt/config.py, docs/mrt2-reference.md §0-§2): 12 RVQ levels
# predicted per frame, 6 reserved target ids (0 = SOS), conditioning values shifted by 7.
LEVELS = 12
RESERVED_TOKENS = 6
SOS_ID = 0
CONDITIONING_OFFSET = 7
STYLE_LEVELS = 12
PITCHES = 128
# Per-channel vocab of the regular conditioning channels (TokensConfig.per_rvq_vocab_size:
# codebook + 6 reserved, + 1 dropout id where the config has a dropout): not recoverable from
# the checkpoint, whose table is rounded up to a multiple of 128 rows.
NOTE_VOCAB, DRUM_VOCAB, CFG_VOCAB, CFG_DRUM_VOCAB = 11, 9, 47, 15
NORM_EPS = 1e-6
LOGIT_SOFT_CAP = 30.0
# Attention windows (max_past_horizon) are not in the checkpoint either: the official
# presets, keyed by (temporal layers, temporal width) (magenta_rt/jax/model.py).
PRESETS = {(12, 1024): ('mrt2_small', 41, 41), (20, 3072): ('mrt2_base', 25, 25)}

LICENCE = 'CC-BY-4.0'
HUB = 'https://huggingface.co/google/magenta-realtime-2'


class ConversionError(Exception):
  pass


# ---------------------------------------------------------------------------
# safetensors (8-byte little-endian header length, JSON header, data)
# ---------------------------------------------------------------------------

_READ_DTYPES = {'F32': '<f4', 'F16': '<f2', 'F64': '<f8', 'BF16': '<u2'}


class Checkpoint(Mapping):
  """A safetensors file's tensors as float32 arrays, memory-mapped and widened on access
  (mrt2_base is ~10 GB: nothing is read before it is needed)."""

  def __init__(self, path):
    self.path = Path(path)
    try:
      with open(self.path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
    except (OSError, struct.error, ValueError) as e:
      raise ConversionError(f'{self.path}: not a readable safetensors file ({e})')
    header.pop('__metadata__', None)
    self._start = 8 + n
    self._header = header
    for name, t in header.items():
      if t['dtype'] not in _READ_DTYPES:
        raise ConversionError(f'{self.path}: tensor {name}: dtype {t["dtype"]} not supported '
                              f'(F32, F16, F64, BF16)')

  def shape(self, name):
    return tuple(self._header[name]['shape'])

  def __getitem__(self, name):
    t = self._header[name]
    begin, end = t['data_offsets']
    raw = np.memmap(self.path, dtype=_READ_DTYPES[t['dtype']], mode='r',
                    offset=self._start + begin, shape=tuple(t['shape']))
    if t['dtype'] == 'BF16':
      return (raw.astype('<u4') << 16).view('<f4')
    return raw if t['dtype'] == 'F32' else raw.astype('<f4')

  def __iter__(self):
    return iter(self._header)

  def __len__(self):
    return len(self._header)


class NamesList(Mapping):
  """A names list (path<TAB>shape<TAB>dtype) as zero-filled arrays that take no memory
  (broadcast views): the conversion code runs on it unchanged, shapes only."""

  def __init__(self, path):
    self._shapes = {}
    for line in Path(path).read_text().splitlines():
      if not line.strip() or line.startswith('#'):
        continue
      name, dims = line.split('\t')[:2]
      self._shapes[name] = tuple(int(d) for d in dims.split('x')) if dims else ()

  def shape(self, name):
    return self._shapes[name]

  def __getitem__(self, name):
    return np.broadcast_to(np.float32(0), self._shapes[name])

  def __iter__(self):
    return iter(self._shapes)

  def __len__(self):
    return len(self._shapes)


def to_bf16(a):
  """float32 -> bfloat16 bits, round to nearest even (weights are finite)."""
  bits = np.ascontiguousarray(a, dtype='<f4').view('<u4')
  return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype('<u2')


def write_safetensors(path, tensors, on_written=lambda name: None):
  """tensors: list of (name, shape, dtype 'F32'|'BF16', produce); produce() -> float32 array.
  Deterministic bytes: sorted header keys, no timestamps. The header is padded with spaces
  to 8 bytes and the F32 tensors come first, so every tensor starts aligned to its element
  size without holes (safetensors forbids gaps between tensors)."""
  tensors = sorted(tensors, key=lambda t: t[2] != 'F32')  # stable: plan order within a dtype
  header, offset = {}, 0
  for name, shape, dtype, _ in tensors:
    n = int(np.prod(shape, dtype=np.int64)) * (4 if dtype == 'F32' else 2)
    header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + n]}
    offset += n
  text = json.dumps(header, sort_keys=True, separators=(',', ':')).encode()
  text += b' ' * (-len(text) % 8)
  with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(text)))
    f.write(text)
    for name, shape, dtype, produce in tensors:
      a = produce()
      if a.shape != tuple(shape):
        raise ConversionError(f'internal: {name} came out {a.shape}, expected {shape}')
      f.write((to_bf16(a) if dtype == 'BF16' else np.ascontiguousarray(a, '<f4')).tobytes())
      on_written(name)


# ---------------------------------------------------------------------------
# Layouts: official array -> canonical array (views; shapes follow)
# ---------------------------------------------------------------------------

def same(a):
  return a


def dense(a):
  """Dense kernel [in, out] -> [out, in] (kernels/dense: one contiguous row per output)."""
  return a.T


def proj_in(a):
  """q/k/v kernel [in, heads, dim] -> [heads*dim, in] (a dense)."""
  return a.reshape(a.shape[0], -1).T


def proj_out(a):
  """output_projection kernel [model, heads, dim] -> [model, heads*dim] (a dense)."""
  return a.reshape(a.shape[0], -1)


# ---------------------------------------------------------------------------
# Architecture: read from the checkpoint's shapes
# ---------------------------------------------------------------------------

def _shape(ckpt, name, why):
  if name not in ckpt:
    raise ConversionError(f'missing tensor {name} (needed to read the {why})')
  return ckpt.shape(name)


def _layer_count(ckpt, prefix):
  indices = {int(n[len(prefix):].split('/')[0]) for n in ckpt if n.startswith(prefix)}
  if not indices:
    raise ConversionError(f'no layers under {prefix}N/ (not an MRT2 Depthformer checkpoint?)')
  return max(indices) + 1


def _stack_arch(ckpt, tag, layer0, norm_name, layers):
  q = _shape(ckpt, layer0 + 'self_attention/attention/query_projection/kernel', tag + ' heads')
  ffn = _shape(ckpt, layer0 + 'ffn/ffn_layer1/kernel', tag + ' ffn width')
  sink = layer0 + 'self_attention/attention/sink_key_embeddings'
  return {f'{tag}_layers': layers, f'{tag}_dims': _shape(ckpt, norm_name, tag + ' width')[0],
          f'{tag}_ffn': ffn[1], f'{tag}_heads': q[1], f'{tag}_head_dims': q[2],
          f'{tag}_sinks': ckpt.shape(sink)[0] if sink in ckpt else 0}


def read_architecture(ckpt, horizons):
  """The [architecture] table: flat hyper-parameters, in a fixed order."""
  vocab, _ = _shape(ckpt, EMBEDDING, 'target vocabulary')
  codebook, rest = divmod(vocab - RESERVED_TOKENS, LEVELS)
  if rest:
    raise ConversionError(f'unknown layout: vocabulary {vocab} is not {LEVELS} levels x codebook'
                          f' + {RESERVED_TOKENS}')
  style_rows, style_dims = _shape(ckpt, STYLE + 'mulan_dequantizer/embedding', 'style table')
  arch = {'levels': LEVELS, 'codebook': codebook, 'reserved_tokens': RESERVED_TOKENS,
          'vocab': vocab, 'sos_id': SOS_ID, 'conditioning_offset': CONDITIONING_OFFSET,
          'encoder_dims': _shape(ckpt, ENC + 'encoder_ln/scale', 'encoder width')[0],
          'style_vocab': style_rows // STYLE_LEVELS, 'style_dims': style_dims,
          'regular_rows': _shape(ckpt, REGULAR, 'regular table')[0],
          'note_vocab': NOTE_VOCAB, 'drum_vocab': DRUM_VOCAB, 'cfg_vocab': CFG_VOCAB,
          'cfg_drum_vocab': CFG_DRUM_VOCAB}
  arch.update(_stack_arch(ckpt, 'temporal', TEMPORAL + '0/', TEMPORAL + '0/ffn/pre_norm/scale',
                          _layer_count(ckpt, TEMPORAL)))
  arch.update(_stack_arch(ckpt, 'depth', DEPTH + 'transformer/x_layers_0/',
                          DEPTH + 'final_ln/scale',
                          _layer_count(ckpt, DEPTH + 'transformer/x_layers_')))
  key = (arch['temporal_layers'], arch['temporal_dims'])
  if horizons is None:
    if key not in PRESETS:
      raise ConversionError(f'unknown layout: temporal stack of {key[0]} layers x {key[1]} is '
                            'neither mrt2_small nor mrt2_base; give its attention windows '
                            'with --horizons SELF,CROSS')
    horizons = PRESETS[key][1:]
  arch['temporal_self_horizon'], arch['temporal_cross_horizon'] = horizons
  # The depth decoder attends over the levels of one frame (max_past_horizon = levels).
  arch['depth_horizon'] = LEVELS
  arch['norm_eps'] = NORM_EPS
  arch['logit_soft_cap'] = LOGIT_SOFT_CAP
  if style_rows % STYLE_LEVELS:
    raise ConversionError(f'unknown layout: style table has {style_rows} rows, not a multiple '
                          f'of {STYLE_LEVELS} levels')
  used = PITCHES * NOTE_VOCAB + DRUM_VOCAB + 2 * CFG_VOCAB + CFG_DRUM_VOCAB
  if arch['regular_rows'] < used:
    raise ConversionError(f'unknown layout: regular table has {arch["regular_rows"]} rows, the '
                          f'MRT2 channels need {used}')
  return arch


# ---------------------------------------------------------------------------
# The plan: (canonical name, official name, canonical shape, official shape, layout)
# ---------------------------------------------------------------------------

def _attention(out, src, canon, arch, tag, source_dims, sinks):
  d, hd = arch[tag + '_dims'], (arch[tag + '_heads'], arch[tag + '_head_dims'])
  flat = hd[0] * hd[1]
  a = src + 'attention/'
  out += [(canon + 'pre_norm', src + 'pre_norm/scale', (d,), (d,), same),
          (canon + 'q', a + 'query_projection/kernel', (flat, d), (d,) + hd, proj_in),
          (canon + 'k', a + 'key_projection/kernel', (flat, source_dims), (source_dims,) + hd,
           proj_in),
          (canon + 'v', a + 'value_projection/kernel', (flat, source_dims), (source_dims,) + hd,
           proj_in),
          (canon + 'per_dim_scale', a + 'per_dim_scale', (hd[1],), (hd[1],), same),
          (canon + 'o', src + 'output_projection/kernel', (d, flat), (d,) + hd, proj_out),
          (canon + 'post_norm', src + 'post_norm/scale', (d,), (d,), same)]
  if sinks:
    out += [(canon + 'sink_keys', a + 'sink_key_embeddings', (sinks,) + hd, (sinks,) + hd, same),
            (canon + 'sink_values', a + 'sink_value_embeddings', (sinks,) + hd, (sinks,) + hd,
             same)]


def _ffn(out, src, canon, arch, tag):
  d, f = arch[tag + '_dims'], arch[tag + '_ffn']
  out += [(canon + 'pre_norm', src + 'pre_norm/scale', (d,), (d,), same),
          (canon + 'w1', src + 'ffn_layer1/kernel', (f, d), (d, f), dense),
          (canon + 'b1', src + 'ffn_layer1/bias', (f,), (f,), same),
          (canon + 'w2', src + 'ffn_layer2/kernel', (d, f), (f, d), dense),
          (canon + 'b2', src + 'ffn_layer2/bias', (d,), (d,), same),
          (canon + 'post_norm', src + 'post_norm/scale', (d,), (d,), same)]


def plan(arch):
  """Groups of entries, in file order; the single source of the canonical names."""
  de, dt, dd, v = arch['encoder_dims'], arch['temporal_dims'], arch['depth_dims'], arch['vocab']
  sv, sd = arch['style_vocab'] * STYLE_LEVELS, arch['style_dims']
  groups = [('encoder', [
      ('encoder.style.table', STYLE + 'mulan_dequantizer/embedding', (sv, sd), (sv, sd), same),
      ('encoder.style.adapter', STYLE + 'depth_input_adapter/kernel', (de, sd), (sd, de), dense),
      ('encoder.regular.table', REGULAR, (arch['regular_rows'], de), (arch['regular_rows'], de),
       same),
      ('encoder.norm.scale', ENC + 'encoder_ln/scale', (de,), (de,), same),
      ('encoder.norm.bias', ENC + 'encoder_ln/bias', (de,), (de,), same)]),
      ('token_embedding', [('token_embedding', EMBEDDING, (v, dt), (v, dt), same)])]
  for i in range(arch['temporal_layers']):
    src, canon, out = f'{TEMPORAL}{i}/', f'temporal.layers.{i}.', []
    sinks = arch['temporal_sinks']
    _attention(out, src + 'self_attention/', canon + 'self_attn.', arch, 'temporal', dt, sinks)
    _attention(out, src + 'cross_attention/', canon + 'cross_attn.', arch, 'temporal', de,
               sinks)
    _ffn(out, src + 'ffn/', canon + 'ffn.', arch, 'temporal')
    groups.append((f'temporal.layers.{i}', out))
  depth = []
  if dt != dd:  # the official adapter is an Identity when the widths agree
    depth.append(('depth.adapter', DEPTH + 'depth_input_adapter/kernel', (dd, dt), (dt, dd), dense))
  groups.append(('depth.adapter', depth))
  for i in range(arch['depth_layers']):
    src, canon, out = f'{DEPTH}transformer/x_layers_{i}/', f'depth.layers.{i}.', []
    _attention(out, src + 'self_attention/', canon + 'self_attn.', arch, 'depth', dd,
               arch['depth_sinks'])
    _ffn(out, src + 'ffn/', canon + 'ffn.', arch, 'depth')
    groups.append((f'depth.layers.{i}', out))
  groups.append(('depth.head', [
      ('depth.final_norm.scale', DEPTH + 'final_ln/scale', (dd,), (dd,), same),
      ('depth.final_norm.bias', DEPTH + 'final_ln/bias', (dd,), (dd,), same),
      ('depth.logits.w', DEPTH + 'to_logits/kernel', (v, dd), (dd, v), dense),
      ('depth.logits.b', DEPTH + 'to_logits/bias', (v,), (v,), same)]))
  return [(g, entries) for g, entries in groups if entries]


def check_plan(ckpt, groups):
  """Every official Depthformer tensor mapped exactly once with the expected shape; lists
  all the problems, not just the first."""
  entries = [e for _, es in groups for e in es]
  expected = {e[1] for e in entries}
  missing = [e[1] for e in entries if e[1] not in ckpt]
  unexpected = sorted(n for n in ckpt if n.startswith(DF) and n not in expected)
  shapes = [f'{e[1]}: expected {list(e[3])}, checkpoint has {list(ckpt.shape(e[1]))}'
            for e in entries if e[1] in ckpt and tuple(ckpt.shape(e[1])) != e[3]]
  problems = ([f'missing tensor {n}' for n in missing] +
              [f'unexpected tensor {n} (no canonical name maps it)' for n in unexpected] + shapes)
  if problems:
    raise ConversionError(f'{len(problems)} problem(s) in the Depthformer tensors:\n  ' +
                          '\n  '.join(problems))


# ---------------------------------------------------------------------------
# SpectroStream: tools/mrt2_codec.py, when it exists
# ---------------------------------------------------------------------------

def load_codec_converter():
  path = Path(__file__).with_name('mrt2_codec.py')
  if not path.exists():
    return None
  spec = importlib.util.spec_from_file_location('mrt2_codec', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.convert_codec


def convert_codec_part(convert_codec, official, sample_rate, output_mode):
  try:
    tensors, arch = convert_codec(official, sample_rate=sample_rate, output_mode=output_mode)
  except ValueError as e:  # the codec converter's way of naming a parameter it cannot place
    raise ConversionError(f'SpectroStream: {e}')
  bad = [n for n in tensors if not n.startswith('codec.')] + \
        [k for k in arch if not k.startswith('codec_')]
  if bad:
    raise ConversionError(f'tools/mrt2_codec.py returned names outside codec.* / codec_*: {bad}')
  return tensors, arch


# ---------------------------------------------------------------------------
# model.toml
# ---------------------------------------------------------------------------

def _toml_value(v):
  if isinstance(v, str):
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
  if isinstance(v, (list, tuple)):
    return '[' + ', '.join(_toml_value(x) for x in v) + ']'
  return repr(v)


def write_manifest(path, package, audio, provenance, arch, shapes, note):
  lines = [f'# {note}', '', '[package]']
  lines += [f'{k} = {_toml_value(v)}' for k, v in package.items()]
  lines += ['', '[audio]'] + [f'{k} = {_toml_value(v)}' for k, v in audio.items()]
  lines += ['', '[provenance]'] + [f'{k} = {_toml_value(v)}' for k, v in provenance.items()]
  lines += ['', '[architecture]'] + [f'{k} = {_toml_value(v)}' for k, v in arch.items()]
  lines += ['', '[tensors]'] + [f'{_toml_value(n)} = {_toml_value(list(s))}'
                                for n, s in sorted(shapes.items())]
  Path(path).write_text('\n'.join(lines) + '\n')


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

def _horizons(text):
  try:
    self_h, cross_h = (int(x) for x in text.split(','))
  except ValueError:
    raise argparse.ArgumentTypeError('expected SELF,CROSS (two integers)')
  return self_h, cross_h


def _audio(text):
  try:
    rate, channels, frame_rate = text.split(',')
    return {'sample_rate': int(rate), 'channels': int(channels), 'frame_rate': float(frame_rate)}
  except ValueError:
    raise argparse.ArgumentTypeError('expected RATE,CHANNELS,FRAME_RATE (e.g. 48000,2,25)')


def check_names(args):
  names = NamesList(args.check_names)
  arch = read_architecture(names, args.horizons)
  groups = plan(arch)
  check_plan(names, groups)
  for _, entries in groups:
    for canon, official, shape, _, _ in entries:
      print(f'{canon:44s} {str(list(shape)):18s} <- {official}')
  mapped = sum(len(es) for _, es in groups)
  codec_names = [n for n in names if n.startswith(SS)]
  others = sorted(n for n in names if not n.startswith((DF, SS)))
  if others:
    raise ConversionError('unexpected tensor(s) outside params/depthformer and '
                          'params/soundstream:\n  ' + '\n  '.join(others))
  convert_codec = load_codec_converter()
  if convert_codec is None:
    print(f'{args.check_names}: {mapped} Depthformer tensors mapped; {len(codec_names)} '
          'params/soundstream tensors not checked (tools/mrt2_codec.py absent)')
    return
  tensors, _ = convert_codec_part(convert_codec, {n: names[n] for n in codec_names},
                                  args.codec_sample_rate or args.audio['sample_rate'],
                                  args.codec_output_mode)
  for n, a in sorted(tensors.items()):
    print(f'{n:44s} {list(a.shape)}')
  print(f'{args.check_names}: {mapped} Depthformer tensors and {len(codec_names)} '
        f'params/soundstream tensors mapped ({len(tensors)} codec tensors)')


def convert(args):
  ckpt = Checkpoint(args.checkpoint)
  name = args.name or ckpt.path.stem
  dtype = 'BF16' if args.dtype == 'bf16' else 'F32'
  arch = read_architecture(ckpt, args.horizons)
  groups = plan(arch)
  check_plan(ckpt, groups)
  out = Path(args.out_dir)
  out.mkdir(parents=True, exist_ok=True)
  print(f'{ckpt.path}: Depthformer {arch["temporal_layers"]}+{arch["depth_layers"]} layers, '
        f'widths {arch["encoder_dims"]}/{arch["temporal_dims"]}/{arch["depth_dims"]} -> {out}')

  def produce(official, layout):
    return lambda: layout(ckpt[official])

  # Vectors (norm scales, biases, per-dim scales) stay f32 whatever --dtype: they are tiny
  # and bf16 would round every norm.
  tensors, shapes, group_of, left = [], {}, {}, {}
  for group, entries in groups:
    for canon, official, shape, _, layout in entries:
      tensors.append((canon, shape, dtype if len(shape) >= 2 else 'F32',
                      produce(official, layout)))
      shapes[canon] = shape
      group_of[canon] = group
    left[group] = len(entries)

  def progress(name):  # a group is done when its last tensor is written
    group = group_of[name]
    left[group] -= 1
    if not left[group]:
      print(f'  {group}: {sum(g == group for g in group_of.values())} tensors', flush=True)

  weights = ['depthformer.safetensors']
  write_safetensors(out / weights[0], tensors, progress)

  convert_codec = load_codec_converter()
  official_codec = {n: ckpt[n] for n in ckpt if n.startswith(SS)}
  for extra in args.spectrostream:
    extra_ckpt = Checkpoint(extra)
    official_codec.update({n: extra_ckpt[n] for n in extra_ckpt})
  if convert_codec is None:
    note = 'Depthformer only: tools/mrt2_codec.py absent, no SpectroStream tensors'
    print(f'  codec: skipped ({len(official_codec)} SpectroStream tensors left unconverted: '
          'tools/mrt2_codec.py absent)')
  else:
    codec, codec_arch = convert_codec_part(convert_codec, official_codec,
                                           args.codec_sample_rate or args.audio['sample_rate'],
                                           args.codec_output_mode)
    arch.update(codec_arch)
    weights.append('spectrostream.safetensors')
    write_safetensors(out / weights[-1], [(n, a.shape, dtype if a.ndim >= 2 else 'F32',
                                           (lambda a=a: a)) for n, a in sorted(codec.items())])
    shapes.update({n: a.shape for n, a in codec.items()})
    note = 'Depthformer and SpectroStream'
    print(f'  codec: {len(codec)} tensors')

  provenance = {
      'source': args.source or f'{HUB} ({ckpt.path.name})',
      'licence': args.licence,
      'attribution': args.attribution or (
          f'Magenta RealTime 2 ({name}) by Google DeepMind, licensed under CC BY 4.0 '
          '(https://creativecommons.org/licenses/by/4.0/). Converted by continuo '
          f'(tools/convert_mrt2.py): tensors renamed, transposed and stored as {args.dtype}.')}
  write_manifest(out / 'model.toml',
                 {'name': name, 'family': 'mrt2', 'format_version': 1, 'weights': weights},
                 args.audio, provenance, arch, shapes,
                 f'Written by tools/convert_mrt2.py from {ckpt.path.name} ({note}).')
  print(f'{out}/model.toml: {len(shapes)} tensors in {len(weights)} files ({note})')


def main(argv=None):
  ap = argparse.ArgumentParser(
      description='Official MRT2 raw checkpoint -> continuo model package (docs/models.md).')
  ap.add_argument('checkpoint', nargs='?', help='official <model>.safetensors')
  ap.add_argument('out_dir', nargs='?', help='package directory to write')
  ap.add_argument('--check-names', metavar='FILE',
                  help='map every tensor of a names list (shapes only) and print the result')
  ap.add_argument('--dtype', choices=('f32', 'bf16'), default='f32',
                  help='storage of weight matrices (vectors stay f32); default f32')
  ap.add_argument('--name', help='package name (default: the checkpoint file stem)')
  ap.add_argument('--spectrostream', action='append', default=[], metavar='FILE',
                  help='extra official SpectroStream safetensors for the codec converter')
  ap.add_argument('--horizons', type=_horizons, metavar='SELF,CROSS',
                  help='temporal attention windows (max_past_horizon); only needed for a '
                       'layout other than mrt2_small / mrt2_base')
  ap.add_argument('--audio', type=_audio, default=_audio('48000,2,25'),
                  metavar='RATE,CHANNELS,FRAME_RATE', help='[audio] of model.toml (48000,2,25)')
  ap.add_argument('--codec-sample-rate', type=int, metavar='HZ',
                  help="the codec's own rate (codec_sample_rate; default: [audio] sample_rate)")
  ap.add_argument('--codec-output-mode', choices=('phase_accumulate', 'peak_phase'),
                  help="a codec trained in continuo's own output mode (tools/train): codec_<mode> = 1")
  ap.add_argument('--source', help='[provenance] source (default: the model hub page)')
  ap.add_argument('--licence', default=LICENCE, help=f'[provenance] licence ({LICENCE})')
  ap.add_argument('--attribution', help='[provenance] attribution (default: CC BY 4.0 credit)')
  args = ap.parse_args(argv)
  try:
    if args.check_names:
      check_names(args)
    elif args.checkpoint and args.out_dir:
      convert(args)
    else:
      ap.error('give CHECKPOINT OUT_DIR, or --check-names FILE')
  except ConversionError as e:
    print(f'convert_mrt2: error: {e}', file=sys.stderr)
    return 1
  return 0


if __name__ == '__main__':
  sys.exit(main())
