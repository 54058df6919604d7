#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/controls.hpp"
#include "osc/osc_message.hpp"

namespace continuo::osc {

// What a command may touch besides Controls: the sender's event subscription and the
// server's own counter for the status reply.
// MIDI learn, from the engine that owns the MIDI input. arm(param, reply) arms it and
// returns "" or why not; reply is called once later, from the MIDI thread, with the
// answer for the sender (/done /continuo/learn <param> <cc>, or /fail when cancelled).
struct LearnHooks {
  std::function<ControlResult(const std::string& param, std::function<void(const Message&)> reply)> arm;
  std::function<ControlResult()> cancel;
};

// /continuo/record: starts (true) or stops a take; "" with the take's files, or why not.
using RecordHook = std::function<ControlResult(bool start, std::vector<std::string>& files)>;

struct CommandContext {
  Controls& controls;
  std::function<ControlResult(bool on)> subscribe;  // /continuo/notify, for the sender
  std::uint64_t packets_dropped = 0;
  std::uint64_t messages_rate_limited = 0;
  std::function<ControlResult(const std::string& param)> learn = {};  // /continuo/learn; empty: no MIDI
  std::function<ControlResult()> learn_cancel = {};
  const Message* message = nullptr;  // the message being dispatched, for string arguments
  std::function<ControlResult(bool on)> subscribe_analysis = {};  // /continuo/subscribe/analysis; empty: no feed
  // /continuo/auth: checks the secret of a TCP connection; empty: not a TCP connection to a
  // server with osc.secret.
  std::function<ControlResult(const std::string& secret)> authenticate = {};
  // Sends a reply to the sender later, from any thread (/continuo/model/load answers when
  // the load ends); empty: no later replies.
  std::function<void(const Message&)> reply_later = {};
  RecordHook record = {};  // empty: no record.dir
};

// A command's arguments after type checking: both readings of each number.
struct Number {
  double real;
  std::int64_t integer;
};

// A refusal ("" when applied, answered /done) or the command's own reply.
using Outcome = std::variant<ControlResult, Message>;

struct Command {
  std::string_view address;  // exact; one ending in '/' matches every address under it
  std::string_view types;    // f float, i integer, one per argument; "*" takes anything
  std::string_view help;     // the arguments and their ranges, for /fail and /continuo/help
  std::function<Outcome(const std::vector<Number>&, CommandContext&)> run;
};

// The address map: one table drives dispatch, /fail's expected signatures and
// /continuo/help. docs/osc.md documents each entry (a unit test checks it names them all).
const std::vector<Command>& commands();

// The field names of /continuo/status.reply, in their fixed order.
std::vector<std::string_view> status_fields();

// The answer to one message: /done <address>, /fail <address> <reason>, or the
// command's own reply (/continuo/status.reply, /continuo/help.reply). A reply with an
// empty address means none now (/continuo/learn answers when a CC is bound).
Message dispatch(const Message& message, CommandContext& context);

}  // namespace continuo::osc
