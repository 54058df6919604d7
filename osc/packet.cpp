#include "osc/packet.hpp"

#include <lo/lo.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace continuo::osc {
namespace {

constexpr int kMaxBundleDepth = 8;
constexpr char kBundleTag[8] = {'#', 'b', 'u', 'n', 'd', 'l', 'e', '\0'};
constexpr std::size_t kBundleHeader = sizeof kBundleTag + 8;  // tag and timetag

using LoMessage = std::unique_ptr<std::remove_pointer_t<lo_message>, decltype(&lo_message_free)>;

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// One argument's value, copied out of the packet: liblo's argument pointers point into it
// with 4-byte alignment, so reading a 64-bit member through an lo_arg would be misaligned
// (found by fuzz_osc under UBSan).
template <typename T>
T read_value(const void* raw) {
  T value;
  std::memcpy(&value, raw, sizeof value);
  return value;
}

Arg to_arg(char type, const void* raw) {
  Arg arg;
  arg.type = type;
  switch (type) {
    case 'i': arg.integer = read_value<std::int32_t>(raw); arg.number = static_cast<double>(arg.integer); break;
    case 'h': arg.integer = read_value<std::int64_t>(raw); arg.number = static_cast<double>(arg.integer); break;
    case 'f': arg.number = read_value<float>(raw); break;
    case 'd': arg.number = read_value<double>(raw); break;
    case 'T': arg.integer = 1; arg.number = 1; break;
    case 'F': break;
    case 's':
    case 'S': arg.text = static_cast<const char*>(raw); break;
    default: break;  // blobs, timetags, MIDI, …: the type alone says they do not fit
  }
  return arg;
}

std::string parse_message(const std::uint8_t* data, std::size_t size, std::vector<Message>& out) {
  // liblo reads the buffer but declares it non-const; it is not written.
  void* bytes = const_cast<std::uint8_t*>(data);
  int result = 0;
  const LoMessage message(lo_message_deserialise(bytes, size, &result), &lo_message_free);
  if (!message) return "not an OSC message (liblo error " + std::to_string(result) + ")";
  Message decoded;
  decoded.address = lo_get_path(bytes, static_cast<ssize_t>(size));
  const char* types = lo_message_get_types(message.get());
  lo_arg** argv = lo_message_get_argv(message.get());
  const int argc = lo_message_get_argc(message.get());
  for (int i = 0; i < argc; ++i) decoded.args.push_back(to_arg(types[i], argv[i]));
  out.push_back(std::move(decoded));
  return {};
}

std::string parse_element(const std::uint8_t* data, std::size_t size, int depth, std::vector<Message>& out);

std::string parse_bundle(const std::uint8_t* data, std::size_t size, int depth, std::vector<Message>& out) {
  if (depth > kMaxBundleDepth) return "bundles nested deeper than " + std::to_string(kMaxBundleDepth);
  if (size < kBundleHeader) return "bundle shorter than its header";
  std::size_t pos = kBundleHeader;
  while (pos < size) {
    if (size - pos < 4) return "bundle element size cut off";
    const std::uint32_t length = read_be32(data + pos);
    pos += 4;
    if (length == 0 || length % 4 != 0 || length > size - pos) {
      return "bundle element of " + std::to_string(length) + " bytes with " + std::to_string(size - pos) + " left";
    }
    std::string why = parse_element(data + pos, length, depth + 1, out);
    if (!why.empty()) return why;
    pos += length;
  }
  return {};
}

std::string parse_element(const std::uint8_t* data, std::size_t size, int depth, std::vector<Message>& out) {
  if (size >= sizeof kBundleTag && std::memcmp(data, kBundleTag, sizeof kBundleTag) == 0) {
    return parse_bundle(data, size, depth, out);
  }
  if (size == 0 || data[0] != '/') return "neither a message (address starting with /) nor a bundle";
  return parse_message(data, size, out);
}

void add_arg(lo_message message, const Arg& arg) {
  switch (arg.type) {
    case 'i': lo_message_add_int32(message, static_cast<std::int32_t>(arg.integer)); break;
    case 'h': lo_message_add_int64(message, arg.integer); break;
    case 'f': lo_message_add_float(message, static_cast<float>(arg.number)); break;
    case 's': lo_message_add_string(message, arg.text.c_str()); break;
    default: lo_message_add_nil(message); break;
  }
}

}  // namespace

std::string parse_packet(std::span<const std::uint8_t> data, std::vector<Message>& out) {
  out.clear();
  std::string why = parse_element(data.data(), data.size(), 0, out);
  if (!why.empty()) out.clear();
  return why;
}

std::vector<std::uint8_t> serialise(const Message& message) {
  const LoMessage encoded(lo_message_new(), &lo_message_free);
  for (const Arg& arg : message.args) add_arg(encoded.get(), arg);
  std::vector<std::uint8_t> bytes(lo_message_length(encoded.get(), message.address.c_str()));
  std::size_t size = bytes.size();
  lo_message_serialise(encoded.get(), message.address.c_str(), bytes.data(), &size);
  bytes.resize(size);
  return bytes;
}

}  // namespace continuo::osc
