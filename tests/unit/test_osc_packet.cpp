#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "osc/allowlist.hpp"
#include "osc/packet.hpp"

namespace continuo::osc {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bundle(const std::vector<Bytes>& elements) {
  Bytes out{'#', 'b', 'u', 'n', 'd', 'l', 'e', 0, 0, 0, 0, 0, 0, 0, 0, 1};
  for (const Bytes& e : elements) {
    const auto n = static_cast<std::uint32_t>(e.size());
    out.insert(out.end(), {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                           static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

TEST(OscPacket, AMessageRoundTripsThroughLiblo) {
  const Message sent{"/continuo/note", {Arg::int32(60), Arg::float32(0.5f), Arg::string("x"), Arg::int64(1LL << 40)}};
  std::vector<Message> got;
  EXPECT_EQ(parse_packet(serialise(sent), got), "");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].address, "/continuo/note");
  EXPECT_EQ(got[0].types(), "ifsh");
  EXPECT_EQ(got[0].args[0].integer, 60);
  EXPECT_EQ(got[0].args[1].number, 0.5);
  EXPECT_EQ(got[0].args[2].text, "x");
  EXPECT_EQ(got[0].args[3].integer, 1LL << 40);
}

// fuzz_osc's first finding: liblo points at arguments inside the packet, 4-byte aligned,
// and reading a 64-bit value through lo_arg there is undefined (UBSan in `make test-asan`).
TEST(OscPacket, SixtyFourBitArgumentsAtFourByteOffsetsAreRead) {
  const Message sent{"/continuo/x", {Arg::int32(7), Arg::int64(-(1LL << 50)), Arg::int64(3)}};
  Bytes packet = serialise(sent);
  std::vector<Message> got;
  ASSERT_EQ(parse_packet(packet, got), "");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].args[1].integer, -(1LL << 50));
  EXPECT_EQ(got[0].args[2].integer, 3);
}

TEST(OscPacket, BundlesAreFlattenedInOrderWhateverTheirTimetag) {
  const Bytes a = serialise({"/a", {Arg::int32(1)}});
  const Bytes b = serialise({"/b", {}});
  std::vector<Message> got;
  EXPECT_EQ(parse_packet(bundle({a, bundle({b, a})}), got), "");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].address, "/a");
  EXPECT_EQ(got[1].address, "/b");
  EXPECT_EQ(got[2].address, "/a");
  EXPECT_EQ(parse_packet(bundle({}), got), "");
  EXPECT_TRUE(got.empty());
}

TEST(OscPacket, MalformedPacketsAreRefusedWhole) {
  const Bytes good = serialise({"/continuo/topk", {Arg::int32(5)}});
  std::vector<Message> got;
  EXPECT_NE(parse_packet(Bytes(good.begin(), good.end() - 4), got), "");  // argument cut off
  EXPECT_NE(parse_packet(Bytes{'/', 'a', 0, 0}, got), "");                 // no type tags
  EXPECT_NE(parse_packet(Bytes{0xde, 0xad, 0xbe, 0xef}, got), "");
  EXPECT_NE(parse_packet(Bytes{}, got), "");
  Bytes cut = bundle({good, good});
  cut.resize(cut.size() - 3);
  EXPECT_NE(parse_packet(cut, got), "");
  EXPECT_TRUE(got.empty()) << "no part of a malformed bundle is used";
  Bytes lying = bundle({good});
  lying[19] = 200;  // the element claims more bytes than the bundle holds
  EXPECT_NE(parse_packet(lying, got), "");
  Bytes deep = good;
  for (int level = 0; level < 12; ++level) deep = bundle({deep});
  EXPECT_EQ(parse_packet(deep, got), "bundles nested deeper than 8");
}

TEST(OscPacket, GarbageNeverCrashes) {
  std::uint32_t state = 12345;
  std::vector<Message> got;
  const Bytes good = serialise({"/continuo/note", {Arg::int32(60), Arg::int32(100)}});
  for (int round = 0; round < 20000; ++round) {
    Bytes bytes = round % 2 ? good : bundle({good, good});
    for (int flips = 0; flips < 3; ++flips) {
      state = state * 1664525u + 1013904223u;
      bytes[(state >> 8) % bytes.size()] = static_cast<std::uint8_t>(state >> 24);
    }
    state = state * 1664525u + 1013904223u;
    bytes.resize(bytes.size() - (state >> 16) % 8);
    parse_packet(bytes, got);
  }
}

sockaddr_storage v4(const char* host) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  inet_pton(AF_INET, host, &a->sin_addr);
  return s;
}

sockaddr_storage v6(const char* host) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in6*>(&s);
  a->sin6_family = AF_INET6;
  inet_pton(AF_INET6, host, &a->sin6_addr);
  return s;
}

bool allows(const Allowlist& list, const sockaddr_storage& s) { return list.allows(reinterpret_cast<const sockaddr*>(&s)); }

TEST(OscAllowlist, MatchesNetworksByPrefix) {
  const Allowlist list({"127.0.0.0/8", "192.168.1.0/25", "10.1.2.3", "fd00::/8"});
  EXPECT_TRUE(allows(list, v4("127.0.0.1")));
  EXPECT_TRUE(allows(list, v4("127.255.0.9")));
  EXPECT_FALSE(allows(list, v4("128.0.0.1")));
  EXPECT_TRUE(allows(list, v4("192.168.1.127")));
  EXPECT_FALSE(allows(list, v4("192.168.1.128")));
  EXPECT_TRUE(allows(list, v4("10.1.2.3")));
  EXPECT_FALSE(allows(list, v4("10.1.2.4")));
  EXPECT_TRUE(allows(list, v6("fd12::1")));
  EXPECT_FALSE(allows(list, v6("::1")));
  EXPECT_TRUE(allows(list, v6("::ffff:127.0.0.1"))) << "IPv4 through an IPv6 socket";
  EXPECT_FALSE(allows(Allowlist({}), v4("127.0.0.1")));
  EXPECT_TRUE(allows(Allowlist({"0.0.0.0/0"}), v4("8.8.8.8")));
}

TEST(OscAllowlist, BadEntriesAreNamed) {
  const auto error_of = [](const std::string& entry) -> std::string {
    try {
      Allowlist list({entry});
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("localhost"), "\"localhost\" is not a network: expected a.b.c.d/n or an IPv6 address/n");
  EXPECT_EQ(error_of("10.0.0.0/33"), "\"10.0.0.0/33\": the prefix after / must be 0..32");
  EXPECT_EQ(error_of("::/129"), "\"::/129\": the prefix after / must be 0..128");
  EXPECT_EQ(error_of("10.0.0.0/"), "\"10.0.0.0/\": the prefix after / must be 0..32");
  EXPECT_EQ(error_of("10.0.0.0/8x"), "\"10.0.0.0/8x\": the prefix after / must be 0..32");
}

}  // namespace
}  // namespace continuo::osc
