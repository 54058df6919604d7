"""Words and their hashed character n-grams, exactly as model/text_words.cpp computes them.

Not named tokenize.py: a script run from this folder would shadow the standard library's
`tokenize`, which torch imports. Pure Python, no torch: data scripts may use it too.

The rules (docs/text-tower.md, "Words"), on the UTF-8 bytes of the text:
- ASCII A-Z become a-z; nothing else changes case.
- A word is a maximal run of word bytes: a-z, 0-9, and every byte >= 0x80 (so UTF-8 letters
  stay inside words, whole); any other byte separates words.
- Only the first max_words words count; the rest of the text is ignored.
- The n-grams of a word are every run of n bytes (ngram_min <= n <= ngram_max, n ascending,
  then position ascending) of '<' + word + '>'; each goes to bucket FNV-1a-32(bytes) % buckets.
"""

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def fnv1a32(data: bytes) -> int:
  """FNV-1a, 32 bits, over unsigned bytes (fastText's own hash sign-extends; this does not)."""
  h = FNV_OFFSET
  for byte in data:
    h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
  return h


def is_word_byte(byte: int) -> bool:
  return 0x61 <= byte <= 0x7A or 0x30 <= byte <= 0x39 or byte >= 0x80


def words(text: str, max_words: int) -> list[bytes]:
  """The words of `text`, lowercased, at most max_words of them."""
  lowered = bytes(b + 32 if 0x41 <= b <= 0x5A else b for b in text.encode('utf-8'))
  found, start = [], None
  for i, byte in enumerate(lowered + b' '):
    if len(found) >= max_words:
      break
    if is_word_byte(byte):
      start = i if start is None else start
    elif start is not None:
      found.append(lowered[start:i])
      start = None
  return found


def ngrams(word: bytes, ngram_min: int, ngram_max: int) -> list[bytes]:
  wrapped = b'<' + word + b'>'
  return [wrapped[i:i + n] for n in range(ngram_min, ngram_max + 1) for i in range(len(wrapped) - n + 1)]


def ngram_buckets(word: bytes, ngram_min: int, ngram_max: int, buckets: int) -> list[int]:
  return [fnv1a32(gram) % buckets for gram in ngrams(word, ngram_min, ngram_max)]


def is_vocabulary_word(word: str) -> bool:
  """A vocabulary entry must be one word as words() would split it, already lowercase."""
  return words(word, 2) == [word.encode('utf-8')]
