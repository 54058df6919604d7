"""The text tower in PyTorch: text -> 768-d style embedding -> 12 RVQ style tokens.

The same math as model/text_tower.cpp (docs/text-tower.md); tests/fixtures/text_tower/ holds
what this module computes, and the C++ unit test must agree with it.

  word vector  = words[id] (vocabulary words only) + mean of buckets[b] over the word's n-grams
  text vector  = mean of its word vectors (zero for a text without words)
  embedding    = L2-normalise(W2 · gelu_tanh(W1 · text vector + b1) + b2)      [768]
  blend        = sum_i (w_i / sum w) · embedding_i, not re-normalised (as upstream MusicCoCa)
  tokens       = residual VQ, 12 levels of `codebook` codes, nearest by squared L2
"""

import dataclasses
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from style import text_words

STYLE_DIMS = 768  # MusicCoCa's embedding width
STYLE_LEVELS = 12  # MusicCoCa's RVQ levels the Depthformer reads


@dataclasses.dataclass(frozen=True)
class TowerConfig:
  """The [text_tower] integers of model.toml. Defaults: the bundled tower's size."""
  word_dims: int = 64
  hidden_dims: int = 256
  buckets: int = 4096
  ngram_min: int = 3
  ngram_max: int = 5
  max_words: int = 32
  codebook: int = 32


class Batch(NamedTuple):
  """Texts flattened to words, the layout forward() reads."""
  word_ids: torch.Tensor  # [W] vocabulary row, -1 for an unknown word
  gram_ids: torch.Tensor  # [G] bucket of every n-gram of every word, word after word
  gram_offsets: torch.Tensor  # [W] where each word's n-grams start in gram_ids
  text_of_word: torch.Tensor  # [W] which text each word belongs to
  words_per_text: torch.Tensor  # [N]


class TextTower(nn.Module):

  def __init__(self, config: TowerConfig, vocab: Sequence[str]):
    super().__init__()
    for word in vocab:
      if not text_words.is_vocabulary_word(word):
        raise ValueError(f'vocabulary entry {word!r} is not one lowercase word as text_words splits text')
    if len(set(vocab)) != len(vocab):
      raise ValueError('vocabulary lists a word twice')
    self.config = config
    self.vocab = list(vocab)
    self.word_index = {word.encode('utf-8'): i for i, word in enumerate(self.vocab)}
    self.word_buckets: dict[bytes, list[int]] = {}  # cache: training encodes the same words again and again
    self.words = nn.Embedding(len(self.vocab), config.word_dims)
    self.buckets = nn.EmbeddingBag(config.buckets, config.word_dims, mode='mean')
    self.w1 = nn.Linear(config.word_dims, config.hidden_dims)
    self.w2 = nn.Linear(config.hidden_dims, STYLE_DIMS)
    self.register_buffer('codebooks', torch.zeros(STYLE_LEVELS, config.codebook, STYLE_DIMS))

  # ---- text -> embedding ----------------------------------------------------------------

  def encode(self, texts: Sequence[str], drop_words: float = 0.0, generator=None) -> Batch:
    """drop_words: the chance that a vocabulary word is looked up as unknown (training: it
    teaches the n-gram buckets to carry each word's meaning, for misspellings and new words)."""
    c = self.config
    word_ids, gram_ids, gram_offsets, text_of_word, counts = [], [], [], [], []
    for t, text in enumerate(texts):
      found = text_words.words(text, c.max_words)
      counts.append(len(found))
      for word in found:
        gram_offsets.append(len(gram_ids))
        if word not in self.word_buckets:
          self.word_buckets[word] = text_words.ngram_buckets(word, c.ngram_min, c.ngram_max, c.buckets)
        gram_ids.extend(self.word_buckets[word])
        word_ids.append(self.word_index.get(word, -1))
        text_of_word.append(t)
    ids = torch.tensor(word_ids, dtype=torch.long)
    if drop_words > 0.0:
      dropped = torch.rand(len(word_ids), generator=generator) < drop_words
      ids = torch.where(dropped, torch.full_like(ids, -1), ids)
    as_long = lambda values: torch.tensor(values, dtype=torch.long)
    return Batch(ids, as_long(gram_ids), as_long(gram_offsets), as_long(text_of_word), as_long(counts))

  def forward(self, batch: Batch) -> torch.Tensor:
    """[N, 768] unit-length embeddings (the zero vector only if the MLP outputs exactly 0)."""
    device = self.w1.weight.device
    batch = Batch(*(x.to(device) for x in batch))
    # EmbeddingBag's mean of an empty bag (a word shorter than ngram_min - 2) is zero, as in C++.
    vectors = self.buckets(batch.gram_ids, batch.gram_offsets)
    if len(self.vocab) > 0:
      known = batch.word_ids >= 0
      looked_up = self.words(batch.word_ids.clamp(min=0))
      vectors = vectors + torch.where(known[:, None], looked_up, torch.zeros_like(looked_up))
    n = batch.words_per_text.shape[0]
    pooled = torch.zeros(n, self.config.word_dims, device=device).index_add(0, batch.text_of_word, vectors)
    pooled = pooled / batch.words_per_text.clamp(min=1).to(pooled.dtype)[:, None]
    hidden = F.gelu(self.w1(pooled), approximate='tanh')
    return F.normalize(self.w2(hidden), dim=-1, eps=1e-12)

  @torch.no_grad()
  def embed(self, texts: Sequence[str]) -> np.ndarray:
    return self(self.encode(texts)).cpu().numpy().astype(np.float32)

  # ---- blend and quantize (float32 NumPy, the C++ order of operations) --------------------

  def blend(self, prompts: Sequence[tuple[str, float]]) -> np.ndarray:
    return blend_embeddings([self.embed([t])[0] if w > 0 else None for t, w in prompts], [w for _, w in prompts])

  def quantize(self, embedding: np.ndarray) -> np.ndarray:
    return quantize(self.codebooks.cpu().numpy(), embedding)[0]


def check_weights(weights: Sequence[float]) -> None:
  if len(weights) == 0:
    raise ValueError('blend: no prompts')
  for i, w in enumerate(weights):
    if not np.isfinite(w) or w < 0:
      raise ValueError(f'blend: prompt {i} has weight {w} (weights must be finite and >= 0)')
  if sum(weights) <= 0:
    raise ValueError('blend: every weight is 0')


def blend_embeddings(embeddings: Sequence[np.ndarray | None], weights: Sequence[float]) -> np.ndarray:
  """Weighted mean, prompt by prompt in order: acc += (w_i / sum) · e_i in float32, prompts of
  weight 0 skipped (their embedding may be None). The mean of unit vectors is shorter than
  1; it is quantized as it is, as upstream MusicCoCa blends (mlx_engine.cpp
  fetch_musiccoca_tokens)."""
  check_weights(weights)
  total = np.float32(sum(np.float32(w) for w in weights))
  acc = np.zeros(STYLE_DIMS, np.float32)
  for e, w in zip(embeddings, weights):
    if w > 0:
      acc = acc + (np.float32(w) / total) * np.asarray(e, np.float32)
  return acc


def quantize(codebooks: np.ndarray, embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """kernels/rvq_encode's semantics: per level the code of least |c|^2 - 2 x·c (ties: lowest
  index), then the residual loses x + (q - x). Returns (tokens [12], margins [12]): per level
  the runner-up's score less the winner's, over |x|·max|c|, the scale of the float32 rounding
  error of a score; a fixture whose margins are well above 1e-5 cannot flip a token."""
  x = np.asarray(embedding, np.float32).copy()
  tokens, margins = [], []
  for level in np.asarray(codebooks, np.float32):
    norms = np.sum(level * level, axis=1)
    scores = norms - 2.0 * (level @ x)
    best = int(np.argmin(scores))
    tokens.append(best)
    scale = float(np.linalg.norm(x)) * float(np.sqrt(norms.max())) + 1e-30
    margins.append((float(np.partition(scores, 1)[1] - scores[best]) if len(scores) > 1 else np.inf) / scale)
    x = x - (x + (level[best] - x))
  return np.array(tokens, np.int32), np.array(margins)
