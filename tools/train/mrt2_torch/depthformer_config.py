"""DepthformerConfig: the hyper-parameters of a Magenta RealTime 2 Depthformer.

The fields and their names are those of the `[architecture]` table of a continuo model
package (docs/models.md; tools/convert_mrt2.py writes it, model/depthformer_config.cpp
reads it), plus three training-only fields that no package stores (`dropout`,
`token_dropout`, `token_dropout_unit`). Upstream's names are in the comments
(magenta_rt/config.py, magenta_rt/jax/model.py).
"""

import dataclasses
import tomllib
from pathlib import Path

# Fixed by the MRT2 conditioning layout (docs/mrt2-reference.md §0): 12 MusicCoCa tokens,
# 128 note-state channels, then drum, CFG (style, notes) and CFG drums.
STYLE_LEVELS = 12
PITCHES = 128
REGULAR_CHANNELS = PITCHES + 4
# Codes a channel must be able to hold: note state 0..3, drum 0..1, CFG bins 0..40 / 0..8.
NOTE_CODES, DRUM_CODES, CFG_CODES, CFG_DRUM_CODES = 4, 2, 41, 9

# Every field of [architecture], in the order tools/convert_mrt2.py writes them.
ARCHITECTURE_KEYS = (
    'levels', 'codebook', 'reserved_tokens', 'vocab', 'sos_id', 'conditioning_offset',
    'encoder_dims', 'style_vocab', 'style_dims', 'regular_rows', 'note_vocab', 'drum_vocab',
    'cfg_vocab', 'cfg_drum_vocab',
    'temporal_layers', 'temporal_dims', 'temporal_ffn', 'temporal_heads', 'temporal_head_dims',
    'temporal_sinks',
    'depth_layers', 'depth_dims', 'depth_ffn', 'depth_heads', 'depth_head_dims', 'depth_sinks',
    'temporal_self_horizon', 'temporal_cross_horizon', 'depth_horizon', 'norm_eps',
    'logit_soft_cap')

TOKEN_DROPOUT_UNITS = ('clip', 'span', 'frame')


class ConfigError(ValueError):
  pass


@dataclasses.dataclass
class DepthformerConfig:
  # Target tokens (TokensConfig SPECTROSTREAM, truncated to 12 levels).
  levels: int = 12             # rvq_truncation_level: RVQ levels predicted per frame
  codebook: int = 1024         # codebook_size
  reserved_tokens: int = 6     # num_extra_tokens; unique id = reserved + level*codebook + code
  vocab: int = 12294           # levels*codebook + reserved_tokens (no dropout id on targets)
  sos_id: int = 0              # MultivariateDecoder sos_id: the frame before the first
  conditioning_offset: int = 7  # raw conditioning value + 7 (NUM_RESERVED_TOKENS + 1): -1 -> 6
  # Conditioning encoder: embeddings -> LayerNorm (its body is sl.Identity).
  encoder_dims: int = 256      # encoder_size.model_dims (De)
  style_vocab: int = 1031      # MUSICCOCA.per_rvq_vocab_size = 1024 + 6 + 1
  style_dims: int = 768        # MUSICCOCA.embedding_size (mulan_dequantizer width)
  regular_rows: int = 1536     # regular_embedder rows: sum of the vocabs below, rounded up to 128
  note_vocab: int = 11         # PIANOROLL_WITH_ONSETS.per_rvq_vocab_size = 4 + 6 + 1
  drum_vocab: int = 9          # DRUM_PIANOROLL.per_rvq_vocab_size = 2 + 6 + 1
  cfg_vocab: int = 47          # CFG_CONDITIONING_MUSICCOCA_NOTES: 41 + 6 (no dropout id)
  cfg_drum_vocab: int = 15     # CFG_CONDITIONING_DRUMS: 9 + 6
  # Temporal decoder (decoder_temporal_size): over frames, self + cross attention.
  temporal_layers: int = 12
  temporal_dims: int = 1024
  temporal_ffn: int = 4096
  temporal_heads: int = 8
  temporal_head_dims: int = 128
  temporal_sinks: int = 1      # num_attention_sink_embeddings
  # Depth decoder (decoder_depth_size): over the levels of one frame.
  depth_layers: int = 2
  depth_dims: int = 768
  depth_ffn: int = 3072
  depth_heads: int = 6
  depth_head_dims: int = 128
  depth_sinks: int = 0
  temporal_self_horizon: int = 41   # decoder_temporal_self_attention_max_past_horizon
  temporal_cross_horizon: int = 41  # decoder_temporal_cross_attention_max_past_horizon
  depth_horizon: int = 12           # depth max_past_horizon (= levels)
  norm_eps: float = 1e-6
  logit_soft_cap: float = 30.0      # soft_cap_logits
  # Training only (not in a package).
  dropout: float = 0.1          # MagentaRT2ModelBase.dropout_prob: temporal stack only
  token_dropout: float = 0.15   # TOKEN_DROPOUT_PROB of the style, notes and drum inputs
  token_dropout_unit: str = 'clip'  # 'clip' | 'span' | 'frame' (docs/training-lm.md)

  # ---------------------------------------------------------------------------------
  @classmethod
  def mrt2_small(cls, **overrides):
    return cls(**overrides)

  @classmethod
  def mrt2_base(cls, **overrides):
    base = dict(encoder_dims=1024, temporal_layers=20, temporal_dims=3072, temporal_ffn=8192,
                temporal_heads=24, temporal_head_dims=128, depth_layers=6, depth_dims=1024,
                depth_ffn=4096, depth_heads=8, depth_head_dims=128, temporal_self_horizon=25,
                temporal_cross_horizon=25)
    return cls(**{**base, **overrides})

  @classmethod
  def from_architecture(cls, table, **training):
    """From an [architecture] table (a dict, e.g. tomllib's), ignoring the codec_* keys."""
    missing = [k for k in ARCHITECTURE_KEYS if k not in table]
    if missing:
      raise ConfigError(f'[architecture] lacks {", ".join(missing)}')
    values = {k: table[k] for k in ARCHITECTURE_KEYS}
    for k in ARCHITECTURE_KEYS:
      if k not in ('norm_eps', 'logit_soft_cap'):
        values[k] = int(values[k])
    config = cls(**values, **training)
    config.validate()
    return config

  @classmethod
  def from_manifest(cls, path, **training):
    """From a package's model.toml (or its directory)."""
    path = Path(path)
    if path.is_dir():
      path = path / 'model.toml'
    with open(path, 'rb') as f:
      manifest = tomllib.load(f)
    if 'architecture' not in manifest:
      raise ConfigError(f'{path}: no [architecture] table')
    return cls.from_architecture(manifest['architecture'], **training)

  def architecture(self):
    """The [architecture] entries of the Depthformer, as tools/convert_mrt2.py writes them."""
    return {k: getattr(self, k) for k in ARCHITECTURE_KEYS}

  # ---------------------------------------------------------------------------------
  def regular_vocabs(self):
    """Per-channel vocab of the 132 regular channels (notes, drum, CFG style/notes, CFG drums)."""
    return ([self.note_vocab] * PITCHES + [self.drum_vocab] + [self.cfg_vocab] * 2
            + [self.cfg_drum_vocab])

  def regular_offsets(self):
    offsets, total = [], 0
    for v in self.regular_vocabs():
      offsets.append(total)
      total += v
    return offsets

  def level_begin(self, level):
    return self.reserved_tokens + level * self.codebook

  def validate(self):
    """Raises ConfigError listing every inconsistency; returns self."""
    problems = []

    def need(ok, message):
      if not ok:
        problems.append(message)

    counts = ['levels', 'codebook', 'vocab', 'encoder_dims', 'style_vocab', 'style_dims',
              'regular_rows', 'note_vocab', 'drum_vocab', 'cfg_vocab', 'cfg_drum_vocab']
    for tag in ('temporal', 'depth'):
      counts += [f'{tag}_{k}' for k in ('layers', 'dims', 'ffn', 'heads', 'head_dims')]
    for k in counts:
      need(isinstance(getattr(self, k), int) and getattr(self, k) > 0,
           f'{k} = {getattr(self, k)!r}: must be a positive integer')
    if problems:  # the checks below do arithmetic on these
      raise ConfigError('inconsistent Depthformer config:\n  ' + '\n  '.join(problems))
    for k in ('reserved_tokens', 'temporal_sinks', 'depth_sinks', 'temporal_self_horizon',
              'temporal_cross_horizon', 'depth_horizon'):
      need(getattr(self, k) >= 0, f'{k} = {getattr(self, k)}: must be >= 0')
    need(self.levels == 12, f'levels = {self.levels}: continuo runs 12-level models only '
         '(FrameCodes), and the MRT2 family predicts 12')
    need(self.vocab == self.levels * self.codebook + self.reserved_tokens,
         f'vocab = {self.vocab}: must be levels*codebook + reserved_tokens = '
         f'{self.levels}*{self.codebook} + {self.reserved_tokens} = '
         f'{self.levels * self.codebook + self.reserved_tokens}')
    need(0 <= self.sos_id < self.reserved_tokens,
         f'sos_id = {self.sos_id}: must be a reserved id (0..reserved_tokens-1 = '
         f'{self.reserved_tokens - 1})')
    need(self.conditioning_offset >= 1,
         f'conditioning_offset = {self.conditioning_offset}: must be >= 1 so that the masked '
         'value -1 maps to an id')
    off = self.conditioning_offset
    for name, vocab, codes in (('style_vocab', self.style_vocab, 1),
                               ('note_vocab', self.note_vocab, NOTE_CODES),
                               ('drum_vocab', self.drum_vocab, DRUM_CODES)):
      need(vocab >= off + codes,
           f'{name} = {vocab}: must hold the masked id and {codes} code(s) above it '
           f'(>= conditioning_offset + {codes} = {off + codes})')
    # Upstream's CFG channels have no dropout id, so their vocab is one short of the
    # largest bin + offset: that bin's id spills into the next channel's first row
    # (magenta_rt/config.py; see docs/training-lm.md). Keep the same sizes.
    for name, vocab, codes in (('cfg_vocab', self.cfg_vocab, CFG_CODES),
                               ('cfg_drum_vocab', self.cfg_drum_vocab, CFG_DRUM_CODES)):
      need(vocab >= off - 1 + codes,
           f'{name} = {vocab}: must hold the {codes} CFG bins (>= conditioning_offset - 1 + '
           f'{codes} = {off - 1 + codes})')
    used = sum(self.regular_vocabs())
    need(self.regular_rows >= used + 1,
         f'regular_rows = {self.regular_rows}: the note, drum and CFG channels need '
         f'{used} rows (+1 for the top CFG drums bin)')
    for tag in ('temporal', 'depth'):
      dims, heads, hd = (getattr(self, f'{tag}_{k}') for k in ('dims', 'heads', 'head_dims'))
      need(heads * hd == dims,
           f'{tag}_heads x {tag}_head_dims = {heads} x {hd} = {heads * hd}: must equal '
           f'{tag}_dims = {dims} (every MRT2 model has it; the attention output projection '
           f'maps heads*head_dims back to dims)')
    need(self.depth_horizon >= self.levels - 1,
         f'depth_horizon = {self.depth_horizon}: must be >= levels - 1 = {self.levels - 1} '
         '(level r attends to levels 0..r of its frame)')
    need(self.norm_eps > 0, f'norm_eps = {self.norm_eps}: must be > 0')
    need(self.logit_soft_cap >= 0, f'logit_soft_cap = {self.logit_soft_cap}: must be >= 0 '
         '(0 = no cap)')
    need(0 <= self.dropout < 1, f'dropout = {self.dropout}: must be in [0, 1)')
    need(0 <= self.token_dropout < 1, f'token_dropout = {self.token_dropout}: must be in [0, 1)')
    need(self.token_dropout_unit in TOKEN_DROPOUT_UNITS,
         f'token_dropout_unit = {self.token_dropout_unit!r}: must be one of '
         f'{", ".join(TOKEN_DROPOUT_UNITS)}')
    if problems:
      raise ConfigError('inconsistent Depthformer config:\n  ' + '\n  '.join(problems))
    return self
