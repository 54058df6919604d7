"""Training the text tower (docs/text-tower.md, "Training").

Records are captions with a style label and/or a target embedding:
  {"text": "slow jazz piano trio", "label": "jazz"}
  {"text": "...", "target": [768 floats]}      e.g. MusicCoCa's embedding of the same caption
Losses: a cosine-softmax classifier over the labels (one learned unit prototype per label,
so each style owns a direction of the 768-d space and words of a style pull towards it) and
1 - cos(embedding, target) for records with a target. Augmentation teaches the n-gram
buckets to stand in for words: vocabulary words are looked up as unknown (drop_words), and
words are misspelt (one random byte edit) and dropped.
After the tower, the RVQ codebooks are fitted by residual k-means on embeddings of the
captions and of random two-caption blends (blends are shorter than 1 and must quantize well too).
"""

import collections
import dataclasses
import random
from typing import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from style import text_words
from style.text_tower import STYLE_LEVELS, TextTower, TowerConfig, quantize


@dataclasses.dataclass
class Record:
  text: str
  label: str | None = None
  target: np.ndarray | None = None  # [768], any length (it is compared by cosine)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  steps: int = 3000
  batch: int = 256
  learning_rate: float = 3e-3
  weight_decay: float = 1e-4
  temperature: float = 0.1  # of the cosine softmax over label prototypes
  drop_words: float = 0.3  # chance a vocabulary word is looked up as unknown (n-grams only)
  misspell: float = 0.1  # chance a word gets one random byte edit
  drop_word: float = 0.1  # chance a word is left out (never the last one)
  kmeans_iterations: int = 25
  blends: float = 0.5  # blends added to the k-means data, per caption
  seed: int = 0


def build_vocabulary(texts: Sequence[str], min_count: int = 2, max_words: int = 4096) -> list[str]:
  """The words seen at least min_count times, most frequent first (ties: alphabetical)."""
  counts = collections.Counter(w.decode('utf-8', 'replace') for t in texts for w in text_words.words(t, 1 << 30))
  kept = [w for w, n in counts.items() if n >= min_count and text_words.is_vocabulary_word(w)]
  return sorted(kept, key=lambda w: (-counts[w], w))[:max_words]


def augment(text: str, config: TrainConfig, rng: random.Random) -> str:
  words = [w.decode('utf-8', 'replace') for w in text_words.words(text, 1 << 30)]
  kept = [w for w in words if rng.random() >= config.drop_word] or words[:1]
  return ' '.join(misspell(w, rng) if rng.random() < config.misspell else w for w in kept)


def misspell(word: str, rng: random.Random) -> str:
  letters = 'abcdefghijklmnopqrstuvwxyz'
  i = rng.randrange(len(word))
  edit = rng.choice(('swap', 'delete', 'insert', 'replace'))
  if edit == 'swap' and len(word) > 1:
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]
  if edit == 'delete' and len(word) > 1:
    return word[:i] + word[i + 1:]
  if edit == 'insert':
    return word[:i] + rng.choice(letters) + word[i:]
  return word[:i] + rng.choice(letters) + word[i + 1:]


def train(records: Sequence[Record], tower_config: TowerConfig = TowerConfig(), config: TrainConfig = TrainConfig(),
          vocabulary: Sequence[str] | None = None, device: str | None = None, log=print) -> TextTower:
  """A trained tower with fitted codebooks, ready for tower_files.export."""
  device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
  torch.manual_seed(config.seed)
  rng = random.Random(config.seed)
  vocabulary = build_vocabulary([r.text for r in records]) if vocabulary is None else vocabulary
  tower = TextTower(tower_config, vocabulary).to(device)
  labels = sorted({r.label for r in records if r.label is not None})
  label_index = {label: i for i, label in enumerate(labels)}
  prototypes = torch.nn.Parameter(torch.randn(max(len(labels), 1), tower.w2.out_features, device=device))
  optimizer = torch.optim.AdamW([*tower.parameters(), prototypes], lr=config.learning_rate,
                                weight_decay=config.weight_decay)
  schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=config.steps)
  generator = torch.Generator().manual_seed(config.seed)
  for step in range(config.steps):
    batch = [records[rng.randrange(len(records))] for _ in range(config.batch)]
    texts = [augment(r.text, config, rng) for r in batch]
    embeddings = tower(tower.encode(texts, config.drop_words, generator))
    loss = label_loss(embeddings, batch, label_index, prototypes, config.temperature)
    loss = loss + target_loss(embeddings, batch)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    if step % max(config.steps // 10, 1) == 0 or step == config.steps - 1:
      log(f'step {step}: loss {loss.item():.4f}')
  tower.eval()
  fit_codebooks(tower, [r.text for r in records], config, rng, log)
  return tower.cpu()


def label_loss(embeddings, batch, label_index, prototypes, temperature) -> torch.Tensor:
  rows = [i for i, r in enumerate(batch) if r.label is not None]
  if not rows:
    return embeddings.sum() * 0.0
  logits = embeddings[rows] @ F.normalize(prototypes, dim=-1).T / temperature
  targets = torch.tensor([label_index[batch[i].label] for i in rows], device=embeddings.device)
  return F.cross_entropy(logits, targets)


def target_loss(embeddings, batch) -> torch.Tensor:
  rows = [i for i, r in enumerate(batch) if r.target is not None]
  if not rows:
    return embeddings.sum() * 0.0
  targets = torch.tensor(np.stack([batch[i].target for i in rows]), dtype=torch.float32, device=embeddings.device)
  return (1.0 - F.cosine_similarity(embeddings[rows], targets, dim=-1)).mean()


@torch.no_grad()
def fit_codebooks(tower: TextTower, texts: Sequence[str], config: TrainConfig, rng: random.Random, log=print) -> None:
  """Residual k-means, level by level, on caption embeddings and two-caption blends."""
  unique = sorted(set(texts))
  points = tower(tower.encode(unique))
  pairs = int(len(unique) * config.blends)
  if pairs > 0 and len(unique) > 1:
    a = torch.tensor([rng.randrange(len(unique)) for _ in range(pairs)])
    b = torch.tensor([rng.randrange(len(unique)) for _ in range(pairs)])
    share = torch.rand(pairs, 1, device=points.device)
    points = torch.cat([points, share * points[a] + (1.0 - share) * points[b]])
  residual = points.clone()
  for level in range(STYLE_LEVELS):
    centroids = kmeans(residual, tower.config.codebook, config.kmeans_iterations, rng)
    tower.codebooks[level] = centroids
    nearest = torch.argmin((centroids * centroids).sum(-1) - 2.0 * residual @ centroids.T, dim=-1)
    residual = residual - centroids[nearest]
  quantized_error = residual.norm(dim=-1).mean().item()
  tokens = [tuple(quantize(tower.codebooks.cpu().numpy(), p.cpu().numpy())[0]) for p in points[:len(unique)]]
  log(f'codebooks: mean residual {quantized_error:.4f} after {STYLE_LEVELS} levels; '
        f'{len(set(tokens))} distinct token sets for {len(unique)} captions')


def kmeans(points: torch.Tensor, k: int, iterations: int, rng: random.Random) -> torch.Tensor:
  """k centroids (Lloyd). A cluster left empty restarts at the point the others serve worst."""
  centroids = points[[rng.randrange(len(points)) for _ in range(k)]].clone()
  for _ in range(iterations):
    distances = torch.cdist(points, centroids)
    nearest = distances.argmin(-1)
    counts = torch.bincount(nearest, minlength=k)
    sums = torch.zeros_like(centroids).index_add(0, nearest, points)
    filled = counts > 0
    centroids[filled] = sums[filled] / counts[filled, None].to(points.dtype)
    empty = torch.nonzero(~filled).flatten()
    if len(empty) > 0:
      worst = distances.min(-1).values.argsort(descending=True)[:len(empty)]
      centroids[empty[:len(worst)]] = points[worst]
  return centroids
