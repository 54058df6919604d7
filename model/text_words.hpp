#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace continuo::model {

// The text tower's tokenization (docs/text-tower.md, "Words"), byte for byte the same as
// tools/train/style/text_words.py: the committed fixture checks the two agree.
//
// On the UTF-8 bytes of a text: ASCII A-Z become a-z; a word is a maximal run of a-z, 0-9 and
// bytes >= 0x80 (UTF-8 letters stay whole inside words); every other byte separates words.
// A word's n-grams are all runs of n bytes of '<' + word + '>' for ngram_min <= n <= ngram_max,
// n ascending then position ascending, each hashed to FNV-1a-32(bytes) % buckets.

bool is_word_byte(unsigned char byte);

// The first max_words words of text, lowercased.
std::vector<std::string> split_words(std::string_view text, std::size_t max_words);

// FNV-1a, 32 bits, over unsigned bytes.
std::uint32_t fnv1a32(std::string_view bytes);

struct NgramSpec {
  std::size_t min = 3;
  std::size_t max = 5;
  std::size_t buckets = 1;
};

// The buckets of word's n-grams, in the order above, replacing out's contents (a word shorter
// than min - 2 bytes has none).
void ngram_buckets(std::string_view word, const NgramSpec& spec, std::vector<std::uint32_t>& out);

// True when split_words would turn `word` into exactly itself: one word, already lowercase.
bool is_vocabulary_word(std::string_view word);

}  // namespace continuo::model
