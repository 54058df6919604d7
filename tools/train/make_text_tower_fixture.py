#!/usr/bin/env python3
"""Writes tests/fixtures/text_tower/: a tiny text tower with random weights and what the
PyTorch definition (style/text_tower.py) computes from it, for tests/unit/test_text_tower.cpp.

  package/model.toml, text_tower.safetensors, text_vocab.txt   the tower, as a package holds it
  expected.safetensors   per case: its text (metadata case.N.text), the embedding [768] and
                         the 12 tokens (F32); per blend: texts, weights, embedding, tokens

Run: .venv-train/bin/python tools/train/make_text_tower_fixture.py [--out DIR]   (deterministic bytes;
tests/integration/test_text_tower_fixture.py checks the committed files are what it writes)
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from style import text_tower, tower_files  # noqa: E402
from style.text_tower import STYLE_DIMS, STYLE_LEVELS, TextTower, TowerConfig  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / 'tests' / 'fixtures' / 'text_tower'
SEED = 6
# Small enough to commit (≈ 0.27 MB): the codebooks [12, K, 768] dominate, so K = 4. Hidden
# width differs from the word width so a transposed weight cannot pass.
CONFIG = TowerConfig(word_dims=16, hidden_dims=24, buckets=64, ngram_min=3, ngram_max=5, max_words=8, codebook=4)
VOCAB = ['jazz', 'piano', 'drums', 'funk', 'slow', 'fast', 'ambient', 'bass', 'café', '808', 'lo', 'fi']
CASES = [
    'jazz piano',  # known words only
    'Slow, AMBIENT drums!!!',  # case folding, punctuation
    'jaz pianno drumz',  # misspellings: n-grams only
    '',  # no words: the MLP of a zero vector
    '!!! ... ???',  # no words either
    'café 808 lo-fi',  # UTF-8 in a vocabulary word, digits, a hyphen splitting two words
    'ünïcödé ñ 日本の音楽',  # unknown UTF-8 words
    'funk ' * 12 + 'jazz',  # more than max_words: the tail (jazz) is ignored
    'a',  # one letter: '<a>' has one 3-gram and nothing longer
    'xylophone quartet in seven-eight',  # unknown words
]
BLENDS = [
    [('jazz piano', 0.7), ('slow ambient drums', 0.3)],
    [('funk', 0.0), ('bass', 2.0), ('808', 0.5)],  # weight 0: skipped
]
# Winner and runner-up scores must differ by more than float32 rounding can move them: a
# score's error is below 768 · 2^-24 · |x|·|c| ≈ 5e-5 |x|·|c| even when every rounding adds up.
MIN_MARGIN = 1e-3
MANIFEST = """\
# A text tower alone, for tests/unit/test_text_tower.cpp (tools/train/make_text_tower_fixture.py).
# TextTower::open reads this manifest only: generator.safetensors is not here and never opened.
[package]
name = "text_tower_fixture"
family = "mrt2"
format_version = 1
weights = ["generator.safetensors"]

[audio]
sample_rate = 48000
channels = 2
frame_rate = 25.0

[provenance]
source = "tools/train/make_text_tower_fixture.py (random weights)"
licence = "Apache-2.0"
attribution = "the continuo tests"

[architecture]

"""


def random_tower() -> TextTower:
  torch.manual_seed(SEED)
  tower = TextTower(CONFIG, VOCAB)
  with torch.no_grad():
    tower.words.weight.normal_(0.0, 1.0)
    tower.buckets.weight.normal_(0.0, 1.0)
    tower.w1.weight.normal_(0.0, CONFIG.word_dims ** -0.5)
    tower.w1.bias.normal_(0.0, 0.1)
    tower.w2.weight.normal_(0.0, CONFIG.hidden_dims ** -0.5)
    tower.w2.bias.normal_(0.0, 0.1)
    # Level l codes at scale 0.8^l: each level quantizes what the previous ones left.
    scales = 0.8 ** torch.arange(STYLE_LEVELS, dtype=torch.float32)
    tower.codebooks.copy_(torch.randn(STYLE_LEVELS, CONFIG.codebook, STYLE_DIMS) * STYLE_DIMS ** -0.5 *
                          scales[:, None, None])
  return tower


def tokens_of(tower: TextTower, embedding: np.ndarray, what: str) -> np.ndarray:
  tokens, margins = text_tower.quantize(tower.codebooks.numpy(), embedding)
  if margins.min() < MIN_MARGIN:
    raise SystemExit(f'{what}: a level is won by {margins.min():.2e} only: change SEED')
  return tokens.astype(np.float32)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--out', type=Path, default=OUT)
  out = parser.parse_args().out
  tower = random_tower()
  (out / 'package').mkdir(parents=True, exist_ok=True)
  section = tower_files.export(tower, out / 'package')
  (out / 'package' / 'model.toml').write_text(MANIFEST + section, encoding='utf-8')
  loaded = tower_files.load(out / 'package', CONFIG)  # the files hold exactly this tower

  tensors, metadata = {}, {'cases': str(len(CASES)), 'blends': str(len(BLENDS))}
  embeddings = [loaded.embed([text])[0] for text in CASES]  # one at a time, as C++ runs them
  assert np.array_equal(embeddings[3], embeddings[4]), 'two texts without words must agree'
  assert np.array_equal(embeddings[7], loaded.embed(['funk ' * CONFIG.max_words])[0]), 'truncation'
  for i, (text, embedding) in enumerate(zip(CASES, embeddings)):
    metadata[f'case.{i}.text'] = text
    tensors[f'case.{i}.embedding'] = embedding
    tensors[f'case.{i}.tokens'] = tokens_of(loaded, embedding, repr(text))
  for b, prompts in enumerate(BLENDS):
    for p, (text, _) in enumerate(prompts):
      metadata[f'blend.{b}.text.{p}'] = text
    embedding = loaded.blend(prompts)
    tensors[f'blend.{b}.weights'] = np.array([w for _, w in prompts], np.float32)
    tensors[f'blend.{b}.embedding'] = embedding
    tensors[f'blend.{b}.tokens'] = tokens_of(loaded, embedding, f'blend {b}')
  tower_files.write_safetensors(out / 'expected.safetensors', tensors, metadata)
  size = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
  print(f'wrote {out} ({size / 1e3:.0f} kB)')


if __name__ == '__main__':
  main()
