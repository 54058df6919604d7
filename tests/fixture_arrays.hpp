#pragma once

// Arrays of the reference fixtures (tests/fixtures/mrt2/*/fixtures.safetensors), read
// without model/safetensors: fixtures hold I32/I16 arrays, which the package loader refuses
// by design (packages are F32/BF16 only). Trusts the committed files' headers.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace continuo::fixtures {

struct ArrayEntry {
  std::string dtype;
  std::size_t begin = 0;  // absolute byte offsets in the file
  std::size_t end = 0;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline ArrayEntry locate(const std::string& bytes, const std::string& name) {
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), sizeof header_size);
  const std::string header = bytes.substr(8, header_size);
  const std::size_t at = header.find("\"" + name + "\":{");
  if (at == std::string::npos) throw std::runtime_error("no fixture array " + name);
  const std::string object = header.substr(at, header.find('}', at) - at);
  const std::size_t type_at = object.find("\"dtype\":\"") + 9;
  ArrayEntry entry;
  entry.dtype = object.substr(type_at, object.find('"', type_at) - type_at);
  std::sscanf(object.c_str() + object.find("\"data_offsets\":["), "\"data_offsets\":[%zu,%zu]", &entry.begin,
              &entry.end);
  entry.begin += 8 + header_size;
  entry.end += 8 + header_size;
  return entry;
}

template <typename T>
constexpr const char* dtype_of() {
  if constexpr (std::is_same_v<T, float>) return "F32";
  if constexpr (std::is_same_v<T, std::int32_t>) return "I32";
  if constexpr (std::is_same_v<T, std::uint32_t>) return "U32";
  if constexpr (std::is_same_v<T, std::int16_t>) return "I16";
}

template <typename T>
std::vector<T> values_at(const std::string& bytes, const ArrayEntry& entry) {
  std::vector<T> values((entry.end - entry.begin) / sizeof(T));
  std::memcpy(values.data(), bytes.data() + entry.begin, values.size() * sizeof(T));
  return values;
}

// The array `name` of `file`, which must be stored as T.
template <typename T>
std::vector<T> read_array(const std::filesystem::path& file, const std::string& name) {
  const std::string bytes = read_file(file);
  const ArrayEntry entry = locate(bytes, name);
  if (entry.dtype != dtype_of<T>()) throw std::runtime_error(name + " is " + entry.dtype + ", not " + dtype_of<T>());
  return values_at<T>(bytes, entry);
}

// The array `name` of `file` as doubles, whatever its stored type.
inline std::vector<double> read_array_as_doubles(const std::string& bytes, const std::string& name) {
  const ArrayEntry entry = locate(bytes, name);
  const auto widen = [](const auto& values) { return std::vector<double>(values.begin(), values.end()); };
  if (entry.dtype == "F32") return widen(values_at<float>(bytes, entry));
  if (entry.dtype == "I32") return widen(values_at<std::int32_t>(bytes, entry));
  if (entry.dtype == "U32") return widen(values_at<std::uint32_t>(bytes, entry));
  if (entry.dtype == "I16") return widen(values_at<std::int16_t>(bytes, entry));
  throw std::runtime_error(name + ": dtype " + entry.dtype + " not read by the tests");
}

}  // namespace continuo::fixtures
