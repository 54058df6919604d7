"""The Magenta RealTime 2 Depthformer in PyTorch, for training continuo's default model.

Same computation as the official JAX model (magenta-rt 2.0.3, docs/mrt2-reference.md §1-§4)
and as continuo's C++ runtime (model/depthformer*.cpp), teacher-forced over whole
sequences: one call computes the logits of every frame and level in parallel, with
attention masks that reproduce the streaming step exactly (tools/train/check_depthformer.py
proves it against the official fixtures). Parameters keep the official shapes, so
`to_official()` / `load_official()` are renames: the official raw-checkpoint layout
(`params/depthformer/...`) is what this module reads and writes, and tools/convert_mrt2.py
turns it into a continuo package.

  model = Depthformer(DepthformerConfig.mrt2_small(temporal_layers=4, ...))
  logits = model(batch)           # [B, T, 12, vocab], soft-capped (what the loss sees)
  loss = model.loss(batch)        # mean cross-entropy over frames and levels

A batch is a dict of integer tensors of raw values (as in tests/fixtures/mrt2/tiny):
  style_tokens   [B, T, 12]   MusicCoCa tokens, -1 = masked
  note_state     [B, T, 128]  -1 masked, 0 off, 1 held, 2 onset, 3 model decides
  drum           [B, T] or [B, T, 1]   -1 masked, 0 none, 1 drums
  cfg_tokens     [B, T, 2]    CFG bins (style, notes), scale = -1 + 0.2*bin
  cfg_drum_token [B, T] or [B, T, 1]   CFG drums bin, scale = -1 + bin
  codes          [B, T, 12]   SpectroStream codes 0..codebook-1 per level: the targets,
                              and (shifted by one frame, SOS first) the decoder input
  loss_mask      [B, T]       optional, for loss(): 1 = frame counts
"""

import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .depthformer_config import (PITCHES, REGULAR_CHANNELS, STYLE_LEVELS, ConfigError,
                                 DepthformerConfig)

# Official parameter paths: the converter's, so the two can never disagree.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tools/
from convert_mrt2 import DEC, DEPTH, DF, EMBEDDING, ENC, REGULAR, STYLE, TEMPORAL  # noqa: E402

# 1 / softplus(0), hard-coded upstream (sequence_layers attention/common.py: _scale_query).
R_SOFTPLUS_0 = 1.442695041


def _param(*shape):
  return nn.Parameter(torch.zeros(*shape))


def _band_mask(queries, keys, horizon, device):
  """[queries, keys] bool: query t sees keys t-horizon..t (keys and queries share time)."""
  q = torch.arange(queries, device=device)[:, None]
  k = torch.arange(keys, device=device)[None, :]
  return (k <= q) & (k >= q - horizon)


class RMSNorm(nn.Module):
  """y = x * rsqrt(mean(x^2) + eps) * scale (sl.RMSNormalization; no bias, no centring)."""

  def __init__(self, dims, eps):
    super().__init__()
    self.eps = eps
    self.scale = _param(dims)

  def forward(self, x):  # reductions in float32 also under bf16 autocast
    y = x.float()
    y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + self.eps) * self.scale
    return y.to(x.dtype)


class Attention(nn.Module):
  """Residual attention block: x + dropout(post_norm(o(attend(pre_norm(x))))).

  Self-attention when `source` is None, else cross-attention to `source` (same time axis:
  query t sees source frames t-horizon..t, as the official streaming cross-attention with
  max_future_horizon 0). Kernels in the official layout: q/k/v [in, heads, head_dims],
  o [dims, heads, head_dims]; per-dim query scale; optional attention sinks whose logit uses
  the *unscaled* query (as upstream)."""

  def __init__(self, dims, source_dims, heads, head_dims, sinks, horizon, eps, dropout):
    super().__init__()
    self.horizon, self.sinks, self.head_dims = horizon, sinks, head_dims
    self.pre_norm = RMSNorm(dims, eps)
    self.q = _param(dims, heads, head_dims)
    self.k = _param(source_dims, heads, head_dims)
    self.v = _param(source_dims, heads, head_dims)
    self.per_dim_scale = _param(head_dims)
    self.o = _param(dims, heads, head_dims)
    self.post_norm = RMSNorm(dims, eps)
    if sinks:
      self.sink_keys = _param(sinks, heads, head_dims)
      self.sink_values = _param(sinks, heads, head_dims)
    self.dropout = nn.Dropout(dropout)

  def forward(self, x, source=None):
    shape = x.shape  # [..., time, dims]: leading axes flattened into one batch axis
    x = x.reshape(-1, *shape[-2:])
    h = self.pre_norm(x)
    src = h if source is None else source.reshape(-1, *source.shape[-2:])
    q = torch.einsum('btd,dnh->bnth', h, self.q)
    k = torch.einsum('bsd,dnh->bnsh', src, self.k)
    v = torch.einsum('bsd,dnh->bnsh', src, self.v)
    # Upstream scales the query per dim; scaling the keys instead is the same product and
    # leaves the raw query for the sink logit, which upstream computes unscaled. The sink
    # then becomes key/value 0 of every query, never masked, so one fused
    # scaled_dot_product_attention call does it all (attention dropout on the sink too, as
    # upstream).
    k = k * (F.softplus(self.per_dim_scale) * (R_SOFTPLUS_0 / math.sqrt(self.head_dims)))
    visible = _band_mask(q.shape[-2], k.shape[-2], self.horizon, x.device)
    if self.sinks:
      lead = (k.shape[0], k.shape[1], self.sinks, self.head_dims)
      k = torch.cat([self.sink_keys.transpose(0, 1).expand(lead), k], -2)
      v = torch.cat([self.sink_values.transpose(0, 1).expand(lead), v], -2)
      visible = torch.cat([visible.new_ones(visible.shape[0], self.sinks), visible], -1)
    context = F.scaled_dot_product_attention(
        q, k, v, attn_mask=visible, dropout_p=self.dropout.p if self.training else 0.0,
        scale=1.0)
    out = torch.einsum('bnth,dnh->btd', context, self.o)
    return (x + self.dropout(self.post_norm(out))).view(shape)


class FeedForward(nn.Module):
  """Residual FFN block: x + dropout(post_norm(w2(dropout(gelu_tanh(w1(pre_norm(x))))))).
  Kernels [in, out] with biases (sl.Dense)."""

  def __init__(self, dims, hidden, eps, dropout):
    super().__init__()
    self.pre_norm = RMSNorm(dims, eps)
    self.w1, self.b1 = _param(dims, hidden), _param(hidden)
    self.w2, self.b2 = _param(hidden, dims), _param(dims)
    self.post_norm = RMSNorm(dims, eps)
    self.dropout = nn.Dropout(dropout)

  def forward(self, x):
    h = F.gelu(self.pre_norm(x) @ self.w1 + self.b1, approximate='tanh')
    out = self.dropout(h) @ self.w2 + self.b2
    return x + self.dropout(self.post_norm(out))


class TemporalLayer(nn.Module):

  def __init__(self, c):
    super().__init__()
    args = (c.temporal_heads, c.temporal_head_dims, c.temporal_sinks)
    self.self_attn = Attention(c.temporal_dims, c.temporal_dims, *args,
                               c.temporal_self_horizon, c.norm_eps, c.dropout)
    self.cross_attn = Attention(c.temporal_dims, c.encoder_dims, *args,
                                c.temporal_cross_horizon, c.norm_eps, c.dropout)
    self.ffn = FeedForward(c.temporal_dims, c.temporal_ffn, c.norm_eps, c.dropout)


class DepthLayer(nn.Module):

  def __init__(self, c):
    super().__init__()
    # Upstream forces dropout 0 in the depth decoder (depthformer_config: depth_overrides).
    self.self_attn = Attention(c.depth_dims, c.depth_dims, c.depth_heads, c.depth_head_dims,
                               c.depth_sinks, c.depth_horizon, c.norm_eps, 0.0)
    self.ffn = FeedForward(c.depth_dims, c.depth_ffn, c.norm_eps, 0.0)


class ConditioningEncoder(nn.Module):
  """One conditioning frame -> one encoder_dims vector (no attention, no state):
  LayerNorm((style_branch + regular_branch) / 2), where
    style_branch   = (sum over the 12 levels of style_table[raw + 7 + level*style_vocab]) @ adapter
    regular_branch = mean over the 132 channels of regular_table[raw + 7 + channel_offset]."""

  def __init__(self, c):
    super().__init__()
    self.c = c
    self.style_table = _param(STYLE_LEVELS * c.style_vocab, c.style_dims)
    self.style_adapter = _param(c.style_dims, c.encoder_dims)
    self.regular_table = _param(c.regular_rows, c.encoder_dims)
    self.norm_scale = _param(c.encoder_dims)
    self.norm_bias = _param(c.encoder_dims)
    self.register_buffer('style_offsets', torch.arange(STYLE_LEVELS) * c.style_vocab,
                         persistent=False)
    self.register_buffer('regular_offsets', torch.tensor(c.regular_offsets()), persistent=False)
    # Largest raw value per regular channel. CFG bins may reach vocab - offset, one past
    # the channel: upstream's layout (DepthformerConfig.validate); the row stays in the table.
    top = [v - c.conditioning_offset - 1 for v in c.regular_vocabs()]
    top[PITCHES + 1:] = [t + 1 for t in top[PITCHES + 1:]]
    self.register_buffer('regular_max', torch.tensor(top), persistent=False)

  def ids(self, style, regular):
    """Raw values -> table rows, refusing values outside the channels' vocabularies (one
    device sync; the detailed message only on failure)."""
    c, off = self.c, self.c.conditioning_offset
    if bool(((style < -1) | (style > c.style_vocab - off - 1)).any()
            | ((regular < -1) | (regular > self.regular_max)).any()):
      _check_range('style_tokens', style, -1, c.style_vocab - off - 1)
      _check_range('note_state', regular[..., :PITCHES], -1, c.note_vocab - off - 1)
      _check_range('drum', regular[..., PITCHES], -1, c.drum_vocab - off - 1)
      _check_range('cfg_tokens', regular[..., PITCHES + 1:PITCHES + 3], -1, c.cfg_vocab - off)
      _check_range('cfg_drum_token', regular[..., PITCHES + 3], -1, c.cfg_drum_vocab - off)
    return style + off + self.style_offsets, regular + off + self.regular_offsets

  def forward(self, style, regular, trace=None):
    style_ids, regular_ids = self.ids(style, regular)
    style_branch = self.style_table[style_ids].sum(-2) @ self.style_adapter
    regular_branch = self.regular_table[regular_ids].mean(-2)
    embedding = (style_branch + regular_branch) * 0.5
    out = F.layer_norm(embedding, (self.c.encoder_dims,), self.norm_scale, self.norm_bias,
                       self.c.norm_eps)
    if trace is not None:
      trace.update(enc_mulan_branch=style_branch, enc_regular_branch=regular_branch,
                   enc_embedding=embedding, enc_output=out)
    return out


def _check_range(name, x, lo, hi):
  if x.numel() and (int(x.min()) < lo or int(x.max()) > hi):
    raise ValueError(f'{name}: values must be in {lo}..{hi}, got {int(x.min())}..{int(x.max())}')


def _frames(x):
  """[B, T] or [B, T, 1] -> [B, T, 1]."""
  return x if x.dim() == 3 else x.unsqueeze(-1)


class Depthformer(nn.Module):

  def __init__(self, config: DepthformerConfig):
    super().__init__()
    self.config = c = config.validate()
    self.encoder = ConditioningEncoder(c)
    self.token_embedding = _param(c.vocab, c.temporal_dims)
    self.temporal = nn.ModuleList(TemporalLayer(c) for _ in range(c.temporal_layers))
    # The official adapter is an Identity (no parameter) when the widths agree.
    self.depth_adapter = (_param(c.temporal_dims, c.depth_dims)
                          if c.temporal_dims != c.depth_dims else None)
    self.depth = nn.ModuleList(DepthLayer(c) for _ in range(c.depth_layers))
    self.final_norm_scale = _param(c.depth_dims)
    self.final_norm_bias = _param(c.depth_dims)
    self.logits_w = _param(c.depth_dims, c.vocab)
    self.logits_b = _param(c.vocab)
    self.embedding_scale = float(np.float32(np.sqrt(c.temporal_dims)))
    if not any(p.is_meta for p in self.parameters()):
      self.reset_parameters()

  # ---------------------------------------------------------------------------------
  # Initialisation: upstream's initialisers (magenta_rt/jax/transformer.py, sl defaults).
  @torch.no_grad()
  def reset_parameters(self, generator=None):
    def fan_in(p, fan):  # variance_scaling(1.0, 'fan_in', 'truncated_normal')
      std = math.sqrt(1.0 / fan) / 0.87962566103423978  # truncated at ±2 std
      nn.init.trunc_normal_(p, 0.0, std, -2 * std, 2 * std, generator=generator)

    for name, p in self.named_parameters():
      leaf = name.rsplit('.', 1)[-1]
      if leaf in ('scale', 'final_norm_scale', 'norm_scale'):
        p.fill_(1.0)
      elif leaf in ('b1', 'b2', 'logits_b', 'norm_bias', 'final_norm_bias', 'per_dim_scale'):
        p.zero_()
      elif leaf in ('q', 'k', 'v'):
        fan_in(p, p.shape[0])
      elif leaf == 'o':
        fan_in(p, p.shape[1] * p.shape[2])
      elif leaf in ('token_embedding', 'regular_table', 'style_table'):
        # flax default_embed_init: normal with stddev 1/sqrt(width) (rows of norm ~1).
        # Upstream zero-initialises the style table (mulan_dequantizer) because it loads
        # the pretrained MusicCoCa RVQ codebooks into it; without them it is learned.
        p.normal_(0.0, 1.0 / math.sqrt(p.shape[-1]), generator=generator)
      elif leaf in ('sink_keys', 'sink_values'):  # default_embed_init on [sinks, heads, dim]
        p.normal_(0.0, 1.0 / math.sqrt(p.shape[1] * p.shape[2]), generator=generator)
      else:  # dense kernels [in, out]: w1, w2, style_adapter, depth_adapter, logits_w
        fan_in(p, p.shape[0])

  # ---------------------------------------------------------------------------------
  def unique_ids(self, codes):
    """Per-level codes [.., 12] -> unique ids reserved + level*codebook + code."""
    c = self.config
    _check_range('codes', codes, 0, c.codebook - 1)
    return codes + c.reserved_tokens + c.codebook * torch.arange(c.levels, device=codes.device)

  def embed(self, ids):
    return self.token_embedding[ids] * self.embedding_scale

  def drop_tokens(self, style, regular, generator=None):
    """Conditioning token dropout (training): each of the style (12 tokens), notes (128)
    and drum inputs is replaced by -1 ("masked", id 6 = the dropout id) with probability
    token_dropout, per `token_dropout_unit`: 'clip' = the whole sequence of a batch row,
    'span' = a random contiguous span of it, 'frame' = each frame independently. CFG tokens
    are never dropped (upstream gives them no dropout id)."""
    c = self.config
    p = c.token_dropout
    if p <= 0:
      return style, regular
    b, t = style.shape[:2]
    dev = style.device

    def draw():  # [B, T] bool: which frames of which rows lose this input
      if c.token_dropout_unit == 'frame':
        return torch.rand(b, t, device=dev, generator=generator) < p
      hit = torch.rand(b, 1, device=dev, generator=generator) < p
      if c.token_dropout_unit == 'clip':
        return hit.expand(b, t)
      ends = torch.sort(torch.randint(0, t + 1, (b, 2), device=dev, generator=generator), 1)[0]
      pos = torch.arange(t, device=dev)[None]
      return hit & (pos >= ends[:, :1]) & (pos < ends[:, 1:])

    masked = torch.full_like(style, -1)
    style = torch.where(draw()[..., None], masked, style)
    notes, rest = regular[..., :PITCHES], regular[..., PITCHES:]
    notes = torch.where(draw()[..., None], torch.full_like(notes, -1), notes)
    drum = torch.where(draw(), torch.full_like(rest[..., 0], -1), rest[..., 0])
    return style, torch.cat([notes, drum[..., None], rest[..., 1:]], -1)

  def encode(self, batch, trace=None):
    style = batch['style_tokens'].long()
    regular = torch.cat([batch['note_state'].long(), _frames(batch['drum']).long(),
                         batch['cfg_tokens'].long(), _frames(batch['cfg_drum_token']).long()], -1)
    if regular.shape[-1] != REGULAR_CHANNELS or style.shape[-1] != STYLE_LEVELS:
      raise ValueError(f'conditioning: expected {STYLE_LEVELS} style tokens and '
                       f'{REGULAR_CHANNELS} regular channels per frame, got '
                       f'{style.shape[-1]} and {regular.shape[-1]}')
    if self.training:
      style, regular = self.drop_tokens(style, regular)
    return self.encoder(style, regular, trace)

  def forward(self, batch, trace=None, capped=True, full_vocab=True):
    """Teacher-forced logits, soft-capped unless capped=False:
    full_vocab=True: [B, T, levels, vocab], every id (what upstream's loss sees);
    full_vocab=False: [B, T, levels, codebook], each level's own codes only (the only
    logits sampling ever uses: 12x less memory; index c = code c).
    `trace`, a dict, receives every intermediate the official fixtures store."""
    c = self.config
    encoded = self.encode(batch, trace)
    ids = self.unique_ids(batch['codes'].long())                       # [B, T, L]
    b, t, levels = ids.shape
    # Decoder input: the previous frame's tokens, the SOS frame first (layer_with_emits).
    sos = torch.full((b, 1, levels), c.sos_id, dtype=ids.dtype, device=ids.device)
    embedded = self.embed(torch.cat([sos, ids], 1))                    # [B, T+1, L, Dt]
    x = embedded[:, :-1].mean(-2)
    if trace is not None:
      trace['temporal_inputs'] = x
    for i, layer in enumerate(self.temporal):
      x = layer.self_attn(x)
      if trace is not None:
        trace[f'temporal_l{i}_self_attention'] = x
      x = layer.cross_attn(x, encoded)
      if trace is not None:
        trace[f'temporal_l{i}_cross_attention'] = x
      x = layer.ffn(x)
      if trace is not None:
        trace[f'temporal_l{i}_ffn'] = x
    if trace is not None:
      trace['temporal_outputs'] = x
    # Depth input r: the temporal output for r = 0, the embedded target of level r-1 after.
    depth_in = torch.cat([x[:, :, None], embedded[:, 1:, :-1]], 2)     # [B, T, L, Dt]
    z = depth_in @ self.depth_adapter if self.depth_adapter is not None else depth_in
    if trace is not None:
      trace['depth_adapter'] = z
    for i, layer in enumerate(self.depth):  # attention over the level axis, within a frame
      z = layer.ffn(layer.self_attn(z))
      if trace is not None:
        trace[f'depth_l{i}'] = z
    z = F.layer_norm(z, (c.depth_dims,), self.final_norm_scale, self.final_norm_bias,
                     c.norm_eps)
    if trace is not None:
      trace['depth_final_ln'] = z
    if full_vocab:
      logits = z @ self.logits_w + self.logits_b
      if trace is not None:
        trace['depth_logits'] = logits
    else:
      r = c.reserved_tokens
      w = self.logits_w[:, r:].view(c.depth_dims, levels, c.codebook)
      logits = torch.einsum('btld,dlc->btlc', z, w) + self.logits_b[r:].view(levels, c.codebook)
    if capped and c.logit_soft_cap:
      logits = torch.tanh(logits / c.logit_soft_cap) * c.logit_soft_cap
    return logits

  def loss(self, batch, reduction='mean', full_vocab=True):
    """Cross-entropy of the soft-capped logits, averaged over levels and frames (and batch
    rows; frames with loss_mask 0 excluded); reduction='none' gives [B, T, levels].
    full_vocab=True is upstream's loss (EncoderDecoder.__call__): softmax over the whole
    vocabulary, target = the unique id. full_vocab=False: softmax over the level's own
    codebook, the distribution sampling draws from (docs/training-lm.md)."""
    logits = self(batch, full_vocab=full_vocab)
    codes = batch['codes'].long()
    targets = self.unique_ids(codes) if full_vocab else codes
    nll = F.cross_entropy(logits.flatten(0, 2).float(), targets.flatten(),
                          reduction='none').view(targets.shape)
    if reduction == 'none':
      return nll
    mask = batch.get('loss_mask')
    if mask is None:
      return nll.mean()
    mask = mask.to(nll.dtype)[..., None].expand_as(nll)
    return (nll * mask).sum() / mask.sum().clamp_min(1)

  # ---------------------------------------------------------------------------------
  # The official raw-checkpoint layout.
  def official_names(self):
    """[(module parameter name, official path)] for every parameter, in official order."""
    c = self.config
    pairs = [('encoder.style_table', STYLE + 'mulan_dequantizer/embedding'),
             ('encoder.style_adapter', STYLE + 'depth_input_adapter/kernel'),
             ('encoder.regular_table', REGULAR),
             ('encoder.norm_scale', ENC + 'encoder_ln/scale'),
             ('encoder.norm_bias', ENC + 'encoder_ln/bias'),
             ('token_embedding', EMBEDDING)]

    def attention(mod, src, sinks):
      a = src + 'attention/'
      out = [(mod + 'pre_norm.scale', src + 'pre_norm/scale'),
             (mod + 'q', a + 'query_projection/kernel'),
             (mod + 'k', a + 'key_projection/kernel'),
             (mod + 'v', a + 'value_projection/kernel'),
             (mod + 'per_dim_scale', a + 'per_dim_scale'),
             (mod + 'o', src + 'output_projection/kernel'),
             (mod + 'post_norm.scale', src + 'post_norm/scale')]
      if sinks:
        out += [(mod + 'sink_keys', a + 'sink_key_embeddings'),
                (mod + 'sink_values', a + 'sink_value_embeddings')]
      return out

    def ffn(mod, src):
      return [(mod + 'pre_norm.scale', src + 'pre_norm/scale'),
              (mod + 'w1', src + 'ffn_layer1/kernel'), (mod + 'b1', src + 'ffn_layer1/bias'),
              (mod + 'w2', src + 'ffn_layer2/kernel'), (mod + 'b2', src + 'ffn_layer2/bias'),
              (mod + 'post_norm.scale', src + 'post_norm/scale')]

    for i in range(c.temporal_layers):
      mod, src = f'temporal.{i}.', f'{TEMPORAL}{i}/'
      pairs += attention(mod + 'self_attn.', src + 'self_attention/', c.temporal_sinks)
      pairs += attention(mod + 'cross_attn.', src + 'cross_attention/', c.temporal_sinks)
      pairs += ffn(mod + 'ffn.', src + 'ffn/')
    if self.depth_adapter is not None:
      pairs.append(('depth_adapter', DEPTH + 'depth_input_adapter/kernel'))
    for i in range(c.depth_layers):
      mod, src = f'depth.{i}.', f'{DEPTH}transformer/x_layers_{i}/'
      pairs += attention(mod + 'self_attn.', src + 'self_attention/', c.depth_sinks)
      pairs += ffn(mod + 'ffn.', src + 'ffn/')
    pairs += [('final_norm_scale', DEPTH + 'final_ln/scale'),
              ('final_norm_bias', DEPTH + 'final_ln/bias'),
              ('logits_w', DEPTH + 'to_logits/kernel'), ('logits_b', DEPTH + 'to_logits/bias')]
    return pairs

  def to_official(self):
    """{official path: float32 NumPy array} of every parameter (CPU copies)."""
    params = dict(self.named_parameters())
    return {path: params[name].detach().to('cpu', torch.float32).numpy().copy()
            for name, path in self.official_names()}

  @torch.no_grad()
  def load_official(self, tensors):
    """Copies the `params/depthformer/...` tensors of an official-layout dict (other keys,
    e.g. params/soundstream/..., are ignored). Every parameter must be present with its
    official shape and no unknown depthformer tensor may be left over; all the problems
    are listed at once."""
    params = dict(self.named_parameters())
    pairs = self.official_names()
    expected = {path for _, path in pairs}
    problems = [f'missing tensor {path}' for _, path in pairs if path not in tensors]
    problems += [f'unexpected tensor {n}' for n in sorted(tensors)
                 if n.startswith(DF) and n not in expected]
    problems += [f'{path}: expected {list(params[name].shape)}, got {list(np.shape(tensors[path]))}'
                 for name, path in pairs
                 if path in tensors and tuple(np.shape(tensors[path])) != tuple(params[name].shape)]
    if problems:
      raise ConfigError('checkpoint does not fit this Depthformer config:\n  ' +
                        '\n  '.join(problems))
    for name, path in pairs:
      p = params[name]
      p.copy_(torch.as_tensor(np.asarray(tensors[path]), dtype=p.dtype, device=p.device))
    return self

  @classmethod
  def from_official(cls, tensors, temporal_self_horizon, temporal_cross_horizon, **training):
    """A model with the architecture the tensors' shapes imply (the attention windows are
    not in a checkpoint: give them) and their weights."""
    return cls(config_from_official(tensors, temporal_self_horizon, temporal_cross_horizon,
                                    **training)).load_official(tensors)


def config_from_official(tensors, temporal_self_horizon, temporal_cross_horizon, **training):
  """DepthformerConfig from an official-layout dict's shapes (cf. convert_mrt2.read_architecture);
  the per-channel vocabularies of the regular channels are upstream's (not recoverable)."""
  def shape(name):
    if name not in tensors:
      raise ConfigError(f'missing tensor {name}')
    return tuple(np.shape(tensors[name]))

  def layers(prefix):
    found = {int(n[len(prefix):].split('/')[0]) for n in tensors if n.startswith(prefix)}
    if not found:
      raise ConfigError(f'no layers under {prefix}N/')
    return max(found) + 1

  def stack(tag, prefix, width):
    layer0 = prefix + '0/'
    q = shape(layer0 + 'self_attention/attention/query_projection/kernel')
    sink = layer0 + 'self_attention/attention/sink_key_embeddings'
    return {f'{tag}_layers': layers(prefix), f'{tag}_dims': width,
            f'{tag}_ffn': shape(layer0 + 'ffn/ffn_layer1/kernel')[1], f'{tag}_heads': q[1],
            f'{tag}_head_dims': q[2], f'{tag}_sinks': shape(sink)[0] if sink in tensors else 0}

  default = DepthformerConfig()
  vocab, dt = shape(EMBEDDING)
  style_rows, style_dims = shape(STYLE + 'mulan_dequantizer/embedding')
  if style_rows % STYLE_LEVELS:
    raise ConfigError(f'style table has {style_rows} rows, not a multiple of {STYLE_LEVELS}')
  fields = dict(codebook=(vocab - default.reserved_tokens) // default.levels, vocab=vocab,
                encoder_dims=shape(ENC + 'encoder_ln/scale')[0],
                style_vocab=style_rows // STYLE_LEVELS, style_dims=style_dims,
                regular_rows=shape(REGULAR)[0],
                temporal_self_horizon=temporal_self_horizon,
                temporal_cross_horizon=temporal_cross_horizon)
  fields.update(stack('temporal', TEMPORAL, dt))
  fields.update(stack('depth', DEPTH + 'transformer/x_layers_', shape(DEPTH + 'final_ln/scale')[0]))
  return DepthformerConfig(**fields, **training).validate()
