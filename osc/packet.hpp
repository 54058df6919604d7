#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "osc/osc_message.hpp"

namespace continuo::osc {

// Splits one datagram into its messages, bundles flattened in order. Timetags are
// ignored: TouchDesigner's are not absolute time, so a bundle is dispatched at once.
// Messages are decoded by liblo. Returns "" or why the packet is malformed, in which case
// out is left empty: a packet is used whole or not at all.
std::string parse_packet(std::span<const std::uint8_t> data, std::vector<Message>& out);

// The message as an OSC datagram, encoded by liblo.
std::vector<std::uint8_t> serialise(const Message& message);

}  // namespace continuo::osc
