#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/tensor.hpp"

namespace continuo::model {

// A model file the user must fix (or re-download). what() is one line naming the file and,
// when it is about one tensor, the tensor: "<path>: tensor 'name': <problem>".
struct ModelFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

static_assert(sizeof(std::size_t) == 8, "tensor sizes are 64-bit");
using Shape = std::vector<std::size_t>;

// One tensor as the header describes it, after validation: the bytes [begin, end) lie
// inside the file, hold exactly product(shape) elements of dtype, and are aligned to it.
struct TensorInfo {
  kernels::DType dtype = kernels::DType::f32;
  Shape shape;
  std::size_t count = 0;  // product(shape)
  std::size_t begin = 0;  // absolute byte offsets in the file (not relative to the data)
  std::size_t end = 0;
};

struct SafetensorsHeader {
  std::map<std::string, TensorInfo, std::less<>> tensors;  // sorted by name
  std::map<std::string, std::string> metadata;            // "__metadata__"
};

// Parses and validates the header of a whole safetensors file held in memory. A pure
// function of its input (the fuzzer calls it): any input either yields a header whose
// every tensor lies inside `file`, or throws ModelFileError naming `path`.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file, std::string_view path);

// "[1024, 256]", as errors print shapes.
std::string format_shape(const Shape& shape);

// "F32" / "BF16", as the file spells them.
std::string_view dtype_name(kernels::DType dtype);

// A safetensors file mapped read-only. Views point into the map: they stay valid as long
// as this object (moving it keeps them valid; the map does not move).
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(std::string_view name) const;
  const TensorInfo& info(std::string_view name) const;  // ModelFileError if absent
  kernels::WeightView view(std::string_view name) const;
  std::span<const std::byte> bytes(std::string_view name) const;  // the raw stored bytes
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

 private:
  SafetensorsFile() = default;
  void unmap() noexcept;

  std::string path_;
  const std::byte* map_ = nullptr;
  std::size_t size_ = 0;
  SafetensorsHeader header_;
};

}  // namespace continuo::model
