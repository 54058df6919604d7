#include "model/text_words.hpp"

namespace continuo::model {
namespace {

constexpr std::uint32_t kFnvOffset = 0x811C9DC5u;
constexpr std::uint32_t kFnvPrime = 0x01000193u;

char lowercase(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool is_word_byte(unsigned char byte) {
  return (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte >= 0x80;
}

std::vector<std::string> split_words(std::string_view text, std::size_t max_words) {
  std::vector<std::string> words;
  std::string word;
  for (std::size_t i = 0; i <= text.size() && words.size() < max_words; ++i) {
    const char c = i < text.size() ? lowercase(text[i]) : ' ';
    if (is_word_byte(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  return words;
}

std::uint32_t fnv1a32(std::string_view bytes) {
  std::uint32_t hash = kFnvOffset;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;  // unsigned: wraps modulo 2^32, as FNV defines
  }
  return hash;
}

void ngram_buckets(std::string_view word, const NgramSpec& spec, std::vector<std::uint32_t>& out) {
  out.clear();
  const std::string wrapped = "<" + std::string(word) + ">";
  for (std::size_t n = spec.min; n <= spec.max && n <= wrapped.size(); ++n) {
    for (std::size_t at = 0; at + n <= wrapped.size(); ++at) {
      out.push_back(static_cast<std::uint32_t>(fnv1a32(std::string_view(wrapped).substr(at, n)) % spec.buckets));
    }
  }
}

bool is_vocabulary_word(std::string_view word) {
  const std::vector<std::string> words = split_words(word, 2);
  return words.size() == 1 && words.front() == word;
}

}  // namespace continuo::model
