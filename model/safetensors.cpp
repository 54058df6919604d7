#include "model/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

namespace continuo::model {
namespace {

// A header this long is no honest safetensors file; refusing it early bounds the parse.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::size_t kMaxDims = 8;
// The schema needs three levels (file object > tensor object > shape array); a little more
// lets a clear "wrong shape" error through, and the bound keeps the recursion shallow.
constexpr int kMaxJsonDepth = 8;

// ---- Errors ---------------------------------------------------------------------------

// Names and strings from the file go into one-line errors: escape what would break the
// line or the terminal, and cut what would flood it.
std::string printable(std::string_view text) {
  constexpr std::size_t kMaxShown = 120;
  std::string shown;
  for (const char c : text.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", byte);
      shown += escape;
    } else {
      shown += c;
    }
  }
  if (text.size() > kMaxShown) shown += "...";
  return shown;
}

[[noreturn]] void fail(std::string_view path, const std::string& problem) {
  throw ModelFileError(std::string(path) + ": " + problem);
}

[[noreturn]] void fail_tensor(std::string_view path, std::string_view name, const std::string& problem) {
  fail(path, "tensor '" + printable(name) + "': " + problem);
}

// ---- A small strict JSON parser -------------------------------------------------------
//
// Why not nlohmann/json: it keeps the last of duplicate keys silently (a duplicate tensor
// name must be an error), reads integers past 64 bits as floats, and recurses without a
// depth bound. The header grammar is tiny; RFC 8259 in ~150 lines is easier to trust
// under a fuzzer than a 25k-line dependency.

struct Json {
  enum class Kind : std::uint8_t { object, array, string, number, boolean, null };
  Kind kind = Kind::null;
  std::string text;               // string: the decoded value; number: the literal
  std::vector<std::string> keys;  // object: member names in file order (duplicates kept)
  std::vector<Json> values;       // object: member values; array: items
};

struct JsonError {
  std::size_t offset;
  std::string problem;
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Json parse_document() {
    Json root = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the top-level value");
    return root;
  }

 private:
  [[noreturn]] void error(const std::string& problem) const { throw JsonError{pos_, problem}; }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c) {
    if (at_end() || peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }

  Json parse_value(int depth) {
    if (depth > kMaxJsonDepth) error("nested too deeply");
    skip_space();
    if (at_end()) error("unexpected end of header");
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json{Json::Kind::string, parse_string(), {}, {}};
      case 't': return parse_word("true", Json::Kind::boolean);
      case 'f': return parse_word("false", Json::Kind::boolean);
      case 'n': return parse_word("null", Json::Kind::null);
      default: return parse_number();
    }
  }

  Json parse_object(int depth) {
    Json object{Json::Kind::object, {}, {}, {}};
    expect('{');
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      skip_space();
      if (peek() != '"') error("expected a string key");
      object.keys.push_back(parse_string());
      skip_space();
      expect(':');
      object.values.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == '}') break;
      expect(',');
    }
    ++pos_;
    return object;
  }

  Json parse_array(int depth) {
    Json array{Json::Kind::array, {}, {}, {}};
    expect('[');
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      array.values.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ']') break;
      expect(',');
    }
    ++pos_;
    return array;
  }

  Json parse_word(std::string_view word, Json::Kind kind) {
    if (text_.substr(pos_, word.size()) != word) error("unexpected character");
    pos_ += word.size();
    return Json{kind, std::string(word), {}, {}};
  }

  std::size_t digits() {
    const std::size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return pos_ - start;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? kept as its literal text.
  Json parse_number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      error("unexpected character");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) error("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) error("expected a digit in the exponent");
    }
    return Json{Json::Kind::number, std::string(text_.substr(start, pos_ - start)), {}, {}};
  }

  unsigned hex4() {
    unsigned value = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char c = peek();
      unsigned digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<unsigned>(c - 'A' + 10);
      } else {
        error("expected four hex digits after \\u");
      }
      value = value * 16 + digit;
    }
    return value;
  }

  // \uXXXX, with a surrogate pair joined into one code point.
  unsigned unicode_escape() {
    const unsigned first = hex4();
    if (first >= 0xDC00 && first <= 0xDFFF) error("unpaired low surrogate in \\u escape");
    if (first < 0xD800 || first > 0xDBFF) return first;
    if (text_.substr(pos_, 2) != "\\u") error("unpaired high surrogate in \\u escape");
    pos_ += 2;
    const unsigned second = hex4();
    if (second < 0xDC00 || second > 0xDFFF) error("unpaired high surrogate in \\u escape");
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  void escape(std::string& out) {
    ++pos_;  // the backslash
    if (at_end()) error("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': append_utf8(out, unicode_escape()); break;
      default: --pos_; error("invalid escape in string");
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) error("unterminated string");
      const char c = text_[pos_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c == '\\') {
        escape(out);
      } else {
        out += c;
        ++pos_;
      }
    }
    ++pos_;
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// The spec requires UTF-8; names travel into logs and errors, so check it up front.
// Returns the offset of the first bad byte, or npos.
std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned code = 0;
    unsigned min = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and code points past Unicode are not UTF-8.
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return std::string_view::npos;
}

// ---- From JSON values to tensor fields -------------------------------------------------

std::string_view kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::object: return "an object";
    case Json::Kind::array: return "an array";
    case Json::Kind::string: return "a string";
    case Json::Kind::number: return "a number";
    case Json::Kind::boolean: return "a boolean";
    case Json::Kind::null: return "null";
  }
  return "a value";
}

// A JSON number as a non-negative 64-bit integer; the problem in words otherwise.
struct Count {
  std::size_t value = 0;
  std::string problem;  // empty: ok
};

Count to_count(const Json& json) {
  if (json.kind != Json::Kind::number) return {0, std::string(kind_name(json.kind)) + " is not an integer"};
  const std::string& literal = json.text;
  if (literal.find_first_of(".eE") != std::string::npos) return {0, literal + " is not an integer"};
  if (literal.front() == '-') return {0, literal + " is negative"};
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
  if (ec != std::errc{} || end != literal.data() + literal.size()) return {0, literal + " does not fit in 64 bits"};
  return {value, {}};
}

kernels::DType read_dtype(std::string_view path, const std::string& name, const Json& json) {
  if (json.kind != Json::Kind::string) fail_tensor(path, name, "dtype must be a string, not " + std::string(kind_name(json.kind)));
  if (json.text == "F32") return kernels::DType::f32;
  if (json.text == "BF16") return kernels::DType::bf16;
  fail_tensor(path, name, "dtype " + printable(json.text) + " not supported (F32 or BF16)");
}

Shape read_shape(std::string_view path, const std::string& name, const Json& json) {
  if (json.kind != Json::Kind::array) fail_tensor(path, name, "shape must be an array of integers, not " + std::string(kind_name(json.kind)));
  if (json.values.size() > kMaxDims) {
    fail_tensor(path, name, "shape has " + std::to_string(json.values.size()) + " dimensions (at most " + std::to_string(kMaxDims) + ")");
  }
  Shape shape;
  for (std::size_t i = 0; i < json.values.size(); ++i) {
    const Count dim = to_count(json.values[i]);
    if (!dim.problem.empty()) fail_tensor(path, name, "shape dimension " + std::to_string(i) + ": " + dim.problem);
    shape.push_back(dim.value);
  }
  return shape;
}

// product(shape), refusing what 64 bits cannot count. A zero dimension makes it zero
// whatever the others are.
std::size_t element_count(std::string_view path, const std::string& name, const Shape& shape) {
  if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
  std::size_t count = 1;
  for (const std::size_t dim : shape) {
    if (count > std::numeric_limits<std::size_t>::max() / dim) {
      fail_tensor(path, name, "shape " + format_shape(shape) + " has more elements than 64 bits can count");
    }
    count *= dim;
  }
  return count;
}

// data_offsets checked against the data section [data_start, file_size); returns the
// relative [begin, end).
std::pair<std::size_t, std::size_t> read_offsets(std::string_view path, const std::string& name, const Json& json,
                                                  std::size_t data_size) {
  if (json.kind != Json::Kind::array || json.values.size() != 2) {
    fail_tensor(path, name, "data_offsets must be two integers [begin, end]");
  }
  const Count begin = to_count(json.values[0]);
  const Count end = to_count(json.values[1]);
  if (!begin.problem.empty()) fail_tensor(path, name, "data_offsets begin: " + begin.problem);
  if (!end.problem.empty()) fail_tensor(path, name, "data_offsets end: " + end.problem);
  if (begin.value > end.value) {
    fail_tensor(path, name, "data_offsets begin " + std::to_string(begin.value) + " is after end " + std::to_string(end.value));
  }
  if (end.value > data_size) {
    fail_tensor(path, name, "data_offsets end " + std::to_string(end.value) + " is beyond the end of the file (" +
                                std::to_string(data_size) + " data bytes)");
  }
  return {begin.value, end.value};
}

const Json* member(const Json& object, std::string_view key) {
  for (std::size_t i = 0; i < object.keys.size(); ++i) {
    if (object.keys[i] == key) return &object.values[i];
  }
  return nullptr;
}

// The entry must have exactly dtype, shape and data_offsets, each once.
void check_entry_keys(std::string_view path, const std::string& name, const Json& entry) {
  if (entry.kind != Json::Kind::object) fail_tensor(path, name, "entry must be an object, not " + std::string(kind_name(entry.kind)));
  for (std::size_t i = 0; i < entry.keys.size(); ++i) {
    const std::string& key = entry.keys[i];
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail_tensor(path, name, "unknown key '" + printable(key) + "' (expected dtype, shape, data_offsets)");
    }
    if (std::find(entry.keys.begin(), entry.keys.begin() + static_cast<std::ptrdiff_t>(i), key) != entry.keys.begin() + static_cast<std::ptrdiff_t>(i)) {
      fail_tensor(path, name, "key '" + key + "' appears twice");
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (member(entry, key) == nullptr) fail_tensor(path, name, std::string("missing '") + key + "'");
  }
}

TensorInfo read_tensor(std::string_view path, const std::string& name, const Json& entry, std::size_t data_start,
                       std::size_t data_size) {
  check_entry_keys(path, name, entry);
  TensorInfo info;
  info.dtype = read_dtype(path, name, *member(entry, "dtype"));
  info.shape = read_shape(path, name, *member(entry, "shape"));
  info.count = element_count(path, name, info.shape);
  const auto [begin, end] = read_offsets(path, name, *member(entry, "data_offsets"), data_size);
  const std::size_t element = kernels::dtype_size(info.dtype);
  const std::size_t bytes = end - begin;
  // Compare by division first: count * element may itself overflow.
  if (info.count > bytes / element || info.count * element != bytes) {
    fail_tensor(path, name, std::to_string(bytes) + " bytes in data_offsets, but shape " + format_shape(info.shape) + " of " +
                                std::string(dtype_name(info.dtype)) + " needs " +
                                (info.count > std::numeric_limits<std::size_t>::max() / element
                                     ? std::string("more than 64 bits can count")
                                     : std::to_string(info.count * element)));
  }
  info.begin = data_start + begin;
  info.end = data_start + end;
  // WeightView reads elements through typed pointers: a misaligned one is undefined
  // behaviour. The reference writer pads the header so every tensor is aligned.
  if (info.begin % element != 0) {
    fail_tensor(path, name, "data starts at file offset " + std::to_string(info.begin) + ", not aligned to " +
                                std::to_string(element) + " bytes (" + std::string(dtype_name(info.dtype)) + ")");
  }
  return info;
}

std::map<std::string, std::string> read_metadata(std::string_view path, const Json& json) {
  if (json.kind != Json::Kind::object) fail(path, "__metadata__ must be an object of strings");
  std::map<std::string, std::string> metadata;
  for (std::size_t i = 0; i < json.keys.size(); ++i) {
    if (json.values[i].kind != Json::Kind::string) {
      fail(path, "__metadata__ '" + printable(json.keys[i]) + "': must be a string, not " + std::string(kind_name(json.values[i].kind)));
    }
    if (!metadata.emplace(json.keys[i], json.values[i].text).second) {
      fail(path, "__metadata__ '" + printable(json.keys[i]) + "': appears twice");
    }
  }
  return metadata;
}

// Tensors sorted by where their bytes start; each must start at or after the previous
// one's end. Empty tensors occupy nothing and overlap nothing.
void check_overlaps(std::string_view path, const SafetensorsHeader& header) {
  std::vector<std::pair<const std::string*, const TensorInfo*>> placed;
  for (const auto& [name, info] : header.tensors) {
    if (info.begin != info.end) placed.emplace_back(&name, &info);
  }
  std::sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  for (std::size_t i = 1; i < placed.size(); ++i) {
    const auto& [previous_name, previous] = placed[i - 1];
    const auto& [name, info] = placed[i];
    if (info->begin < previous->end) {
      fail_tensor(path, *name, "bytes overlap tensor '" + printable(*previous_name) + "'");
    }
  }
}

Json parse_header_json(std::string_view path, std::string_view text) {
  if (const std::size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    fail(path, "header is not valid UTF-8 (byte " + std::to_string(8 + bad) + ")");
  }
  try {
    return JsonParser(text).parse_document();
  } catch (const JsonError& error) {
    fail(path, "header JSON malformed at byte " + std::to_string(8 + error.offset) + ": " + error.problem);
  }
}

std::uint64_t read_le64(const std::byte* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  return value;
}

}  // namespace

std::string format_shape(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string_view dtype_name(kernels::DType dtype) { return dtype == kernels::DType::f32 ? "F32" : "BF16"; }

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file, std::string_view path) {
  if (file.size() < 8) fail(path, "file is " + std::to_string(file.size()) + " bytes, too short for a safetensors header");
  const std::uint64_t header_size = read_le64(file.data());
  if (header_size > kMaxHeaderBytes) fail(path, "header length " + std::to_string(header_size) + " is absurd (more than 100 MB)");
  if (header_size > file.size() - 8) {
    fail(path, "header length " + std::to_string(header_size) + " runs past the end of the file (" + std::to_string(file.size()) + " bytes)");
  }
  const std::string_view text(reinterpret_cast<const char*>(file.data() + 8), header_size);
  const Json root = parse_header_json(path, text);
  if (root.kind != Json::Kind::object) fail(path, "header must be a JSON object, not " + std::string(kind_name(root.kind)));

  const std::size_t data_start = 8 + header_size;
  const std::size_t data_size = file.size() - data_start;
  SafetensorsHeader header;
  bool seen_metadata = false;
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& name = root.keys[i];
    if (name == "__metadata__") {
      if (seen_metadata) fail(path, "__metadata__ appears twice");
      seen_metadata = true;
      header.metadata = read_metadata(path, root.values[i]);
      continue;
    }
    if (name.empty()) fail(path, "a tensor has an empty name");
    TensorInfo info = read_tensor(path, name, root.values[i], data_start, data_size);
    if (!header.tensors.emplace(name, std::move(info)).second) fail_tensor(path, name, "duplicate name");
  }
  check_overlaps(path, header);
  return header;
}

// ---- SafetensorsFile ------------------------------------------------------------------

namespace {

// Closes the descriptor on every path out of open(); the map outlives it.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail_errno(const std::string& path, std::string_view what) {
  fail(path, std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile file;
  file.path_ = path.string();
  const FileDescriptor fd{::open(file.path_.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) fail_errno(file.path_, "cannot open");
  struct stat status {};
  if (::fstat(fd.fd, &status) != 0) fail_errno(file.path_, "cannot stat");
  if (!S_ISREG(status.st_mode)) fail(file.path_, "not a regular file");
  file.size_ = static_cast<std::size_t>(status.st_size);
  if (file.size_ > 0) {  // mmap refuses length 0; the parser refuses the empty file
    void* map = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd.fd, 0);
    if (map == MAP_FAILED) fail_errno(file.path_, "cannot map");
    file.map_ = static_cast<const std::byte*>(map);
  }
  // From here file's destructor unmaps if the header is refused.
  file.header_ = parse_safetensors_header({file.map_, file.size_}, file.path_);
  return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      map_(std::exchange(other.map_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      header_(std::move(other.header_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    size_ = std::exchange(other.size_, 0);
    header_ = std::move(other.header_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() { unmap(); }

void SafetensorsFile::unmap() noexcept {
  if (map_ != nullptr) ::munmap(const_cast<std::byte*>(map_), size_);
  map_ = nullptr;
  size_ = 0;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(header_.tensors.size());
  for (const auto& entry : header_.tensors) names.push_back(entry.first);
  return names;
}

bool SafetensorsFile::contains(std::string_view name) const { return header_.tensors.find(name) != header_.tensors.end(); }

const TensorInfo& SafetensorsFile::info(std::string_view name) const {
  const auto found = header_.tensors.find(name);
  if (found == header_.tensors.end()) fail_tensor(path_, name, "no such tensor in this file");
  return found->second;
}

std::span<const std::byte> SafetensorsFile::bytes(std::string_view name) const {
  const TensorInfo& tensor = info(name);
  return {map_ + tensor.begin, tensor.end - tensor.begin};
}

kernels::WeightView SafetensorsFile::view(std::string_view name) const {
  const TensorInfo& tensor = info(name);
  // An empty tensor may sit at the very end of the file (or of an empty data section):
  // hand out no pointer rather than one past the map.
  const void* data = tensor.count == 0 ? nullptr : static_cast<const void*>(map_ + tensor.begin);
  return kernels::WeightView{data, tensor.dtype, tensor.count};
}

}  // namespace continuo::model
