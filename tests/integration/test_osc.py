"""The OSC server against a running continuo on a private jackd, with OSC packets built by
hand (stdlib only): every address round-trips with /done, /continuo/status.reply reflects
each change, and bad input (wrong types, unknown addresses, NaN, oversize, truncated and
garbage packets, bundle floods, senders outside osc.allow) gets /fail or a counted drop,
never a crash, while the engine plays on without an underrun."""

import math
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

# /continuo/status.reply, in the order docs/osc.md gives.
TEXT_MODEL = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny_text")
STATUS_FIELDS = ["frames_generated", "ring_fill_ms", "underruns", "xruns", "gen_ms_p50", "gen_ms_p99",
                 "held_notes", "temperature", "top_k", "cfg_style", "cfg_notes", "cfg_drums", "drums", "seed",
                 "volume_db", "muted", "osc_dropped", "control_version"] + [f"style_token_{i}" for i in range(12)] + [
                 "control_ms_p50", "control_ms_p95", "control_samples", "onset_mode", "reset_ms_p50", "reset_ms_p95",
                 "resets_heard", "prompts", "model", "recording", "osc_rate_limited",
                 "link_peers", "link_tempo", "link_beat", "link_phase"]
MAX_MESSAGE_BYTES = 32768  # osc.max_message_bytes default
NO_TEXT_TOWER = "no text tower in this model: set /continuo/style/tokens instead"

# ---------------------------------------------------------------------------------------
# OSC by hand.


def osc_string(text):
    data = text.encode() + b"\0"
    return data + b"\0" * (-len(data) % 4)


def message(address, *args):
    """args: int -> i, float -> f, str -> s, or (tag, value) for an explicit tag."""
    tags, body = ",", b""
    for arg in args:
        tag, value = arg if isinstance(arg, tuple) else ({int: "i", float: "f", str: "s"}[type(arg)], arg)
        tags += tag
        if tag == "i":
            body += struct.pack(">i", value)
        elif tag == "h":
            body += struct.pack(">q", value)
        elif tag == "f":
            body += struct.pack(">f", value)
        elif tag == "d":
            body += struct.pack(">d", value)
        elif tag == "s":
            body += osc_string(value)
    return osc_string(address) + osc_string(tags) + body


def bundle(elements):
    out = b"#bundle\0" + struct.pack(">Q", 1)  # timetag "immediately"; ignored anyway
    for element in elements:
        out += struct.pack(">i", len(element)) + element
    return out


def read_string(data, pos):
    end = data.index(b"\0", pos)
    return data[pos:end].decode(errors="replace"), (end + 4) & ~3


def parse(data):
    address, pos = read_string(data, 0)
    tags, pos = read_string(data, pos)
    args = []
    for tag in tags[1:]:
        if tag == "i":
            args.append(struct.unpack_from(">i", data, pos)[0])
            pos += 4
        elif tag == "f":
            args.append(struct.unpack_from(">f", data, pos)[0])
            pos += 4
        elif tag == "h":
            args.append(struct.unpack_from(">q", data, pos)[0])
            pos += 8
        elif tag == "s":
            text, pos = read_string(data, pos)
            args.append(text)
        else:
            jf.fail(f"reply {address} has an unexpected type tag {tag!r}")
    return address, tags[1:], args


class Client:
    """A UDP socket that sends to continuo and hears the replies on its own port."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, packet):
        self.sock.sendto(packet, self.target)

    def receive(self, timeout=2.0):
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        return parse(data)

    def drain(self, quiet=0.3):
        replies = []
        while (reply := self.receive(quiet)) is not None:
            replies.append(reply)
        return replies

    def ask(self, address, *args):
        self.send(message(address, *args))
        reply = self.receive(5.0)
        if reply is None:
            jf.fail(f"no reply to {address} {args}")
        return reply

    def expect_done(self, address, *args):
        reply = self.ask(address, *args)
        if reply[0] != "/done" or reply[2] != [address]:
            jf.fail(f"{address} {args}: expected /done {address}, got {reply}")

    def expect_fail(self, address, args, reason_part):
        reply = self.ask(address, *args)
        if reply[0] != "/fail" or reply[2][0] != address or reason_part not in reply[2][1]:
            jf.fail(f"{address} {args}: expected /fail {address} '...{reason_part}...', got {reply}")
        return reply[2][1]

    def status(self):
        reply = self.ask("/continuo/status")
        if reply[0] != "/continuo/status.reply" or len(reply[2]) != len(STATUS_FIELDS):
            jf.fail(f"bad status reply: {reply}")
        return dict(zip(STATUS_FIELDS, reply[2]))

    def expect_no_reply(self, what):
        extra = self.drain(0.5)
        if extra:
            jf.fail(f"{what}: expected no reply, got {extra[:3]}")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(server, *settings, model="double:counter"):
    port = free_udp_port()
    args = ["--model", model, "--lookahead-ms", "300", "--set", f"osc.port={port}"]
    for setting in settings:
        args += ["--set", setting]
    continuo = jf.Continuo(server, args).start()
    continuo.wait_osc()
    return continuo, Client(port)


def require_alive(continuo, what):
    if not continuo.alive():
        jf.fail(f"continuo died after {what}:\n{continuo.stderr()}")


# ---------------------------------------------------------------------------------------
# The checks.

def round_trips(client):
    tokens = [(i * 37) % 1024 for i in range(12)]
    tokens[3] = -1
    changes = [
        ("/continuo/temperature", (0.75,), "temperature", 0.75),
        ("/continuo/topk", (64,), "top_k", 64),
        ("/continuo/cfg/style", (2.5,), "cfg_style", 2.5),
        ("/continuo/cfg/notes", (3.0,), "cfg_notes", 3.0),
        ("/continuo/cfg/drums", (-1.0,), "cfg_drums", -1.0),
        ("/continuo/drums", (1,), "drums", 1),
        ("/continuo/seed", (12345,), "seed", 12345),
        ("/continuo/volume", (-6.0,), "volume_db", -6.0),
        ("/continuo/mute", (1,), "muted", 1),
        ("/continuo/mute", (0,), "muted", 0),
        ("/continuo/note", (60, 100), "held_notes", 1),
        ("/continuo/note", (64, 90), "held_notes", 2),
        ("/continuo/note", (60, 0), "held_notes", 1),
        ("/continuo/notes/clear", (), "held_notes", 0),
        ("/continuo/onset_mode", (0,), "onset_mode", 0),
        ("/continuo/note", (62, 100), "held_notes", 1),
        ("/continuo/notes/clear", (), "held_notes", 0),
        ("/continuo/onset_mode", (("f", 1.0),), "onset_mode", 1),
        ("/continuo/style/tokens", tuple(tokens), "style_token_11", tokens[11]),
        # TouchDesigner sends floats for everything; an int where a float is expected works too.
        ("/continuo/topk", (("f", 128.0),), "top_k", 128),
        ("/continuo/temperature", (2,), "temperature", 2.0),
        ("/continuo/seed", (("h", 5_000_000_000),), "seed", 5_000_000_000),
    ]
    for address, args, field, expected in changes:
        before = client.status()["control_version"]
        client.expect_done(address, *args)
        # A note released before any frame took its onset stays held for that one frame.
        last = {}

        def reflected():
            last["status"] = client.status()
            return math.isclose(last["status"][field], expected, rel_tol=1e-6)

        try:
            jf.wait_until(reflected, 3.0, interval=0.01, what=f"status {field} = {expected}")
        except TimeoutError as error:
            jf.fail(f"after {address} {args}: {error}; last status {last['status']}")
        # Volume and mute act on playback, not on the model's controls.
        if field not in ("volume_db", "muted") and last["status"]["control_version"] <= before:
            jf.fail(f"{address} did not change the control version: {last['status']}")
    status = client.status()
    if [status[f"style_token_{i}"] for i in range(12)] != tokens:
        jf.fail(f"style tokens in status {status} are not {tokens}")
    client.expect_done("/continuo/notify", 1)
    client.expect_done("/continuo/notify", 0)
    # /done means scheduled: the reset itself shows as the generator's log line.
    client.expect_done("/continuo/reset")
    client.expect_done("/continuo/prefill/silence")
    client.send(message("/continuo/help"))
    help_reply = client.receive(5.0)
    if help_reply is None or help_reply[0] != "/continuo/help.reply" or len(help_reply[2]) < 15:
        jf.fail(f"bad help reply {help_reply}")
    for address, args in [("/continuo/prompt", ("warm jazz",)), ("/continuo/prompts", ("a", 1.0, "b", 0.5)),
                          ("/continuo/prompt/1/text", ("a",)), ("/continuo/prompt/1/weight", (0.5,))]:
        client.expect_fail(address, args, NO_TEXT_TOWER)
    print(f"round trips: {len(changes)} changes, each reflected in status", flush=True)


def refusals(client, continuo):
    before = client.status()
    cases = [
        ("/continuo/temperature", ("hot",), "must be a number"),
        ("/continuo/temperature", (), "expects f"),
        ("/continuo/temperature", (float("nan"),), "got nan"),
        ("/continuo/temperature", (float("inf"),), "got inf"),
        ("/continuo/temperature", (0.0,), "greater than 0"),
        ("/continuo/topk", (12.5,), "whole number"),
        ("/continuo/topk", (0,), "between 1 and 1024"),
        ("/continuo/topk", (("f", float("nan")),), "whole number, got nan"),
        ("/continuo/cfg/style", (8.0,), "between -1 and 7"),
        ("/continuo/drums", (2,), "-1 (model decides)"),
        ("/continuo/seed", (-1,), "at least 0"),
        ("/continuo/note", (60,), "expects ii"),
        ("/continuo/note", (128, 1), "pitch must be between 0 and 127"),
        ("/continuo/volume", (25.0,), "between -120 and 24"),
        ("/continuo/mute", (3,), "0 or 1"),
        ("/continuo/style/tokens", (1, 2, 3), "expects iiiiiiiiiiii"),
        ("/continuo/style/tokens", tuple([0] * 11 + [1024]), "style token 11"),
        ("/continuo/nope", (1,), "Command not found"),
        ("/continuo/temperature/x", (), "Command not found"),
        ("/continuo/temperature", ("x" * 20000,), "must be a number"),  # a big string under the limit
    ]
    for address, args, reason in cases:
        client.expect_fail(address, args, reason)
        require_alive(continuo, f"{address} {args!r:.60}")
    after = client.status()
    unchanged = [k for k in STATUS_FIELDS[6:16] + STATUS_FIELDS[18:30] if after[k] != before[k]]
    if unchanged or after["control_version"] != before["control_version"]:
        jf.fail(f"refused commands changed the state: {unchanged}; {before} -> {after}")
    print(f"refusals: {len(cases)} commands answered /fail, state unchanged", flush=True)


def drops(client, continuo):
    good = message("/continuo/topk", 33)
    packets = [
        ("oversize string", message("/continuo/temperature", "x" * (MAX_MESSAGE_BYTES + 100))),
        ("truncated message", good[:-3]),
        ("missing type tags", osc_string("/continuo/status")),
        ("garbage", bytes(range(256)) * 3),
        ("zero bytes", b"\0" * 64),
        ("truncated bundle", bundle([good, good])[:-5]),
        ("lying bundle size", bundle([good])[:16] + struct.pack(">i", 4000) + good),
        ("nested too deep", bundle([bundle([bundle([bundle([bundle([bundle([bundle([bundle([bundle(
            [bundle([good])])])])])])])])])])),
    ]
    before = client.status()["osc_dropped"]
    for what, packet in packets:
        client.send(packet)
        client.expect_no_reply(what)
        require_alive(continuo, what)
    after = client.status()
    if after["osc_dropped"] - before != len(packets):
        jf.fail(f"osc_dropped went {before} -> {after['osc_dropped']}, expected +{len(packets)}")
    if after["top_k"] == 33:
        jf.fail("a malformed packet was partly applied")
    print(f"drops: {len(packets)} bad packets dropped and counted, no reply", flush=True)


def floods(client, continuo):
    """10,000 commands in bundles as large as osc.max_message_bytes allows (a single
    10,000-message bundle cannot fit UDP's 65,507-byte datagram), then one bundle over it."""
    one = message("/continuo/mute", 0)
    per_bundle = (MAX_MESSAGE_BYTES - 16) // (len(one) + 4)
    sent = 0
    received = []
    started = time.monotonic()
    while sent < 10000:
        n = min(per_bundle, 10000 - sent)
        client.send(bundle([one] * n))
        sent += n
        received += client.drain(0.05)
    received += client.drain(1.0)
    seconds = time.monotonic() - started
    done = sum(1 for r in received if r[0] == "/done" and r[2] == ["/continuo/mute"])
    print(f"flood: {sent} commands in bundles of {per_bundle}, {done} /done heard in {seconds:.1f} s", flush=True)
    # Replies are UDP too: the client's buffer may overflow, but most must arrive.
    if done < sent * 0.5 or len(received) != done:
        jf.fail(f"flood: {done} of {sent} /done replies; other replies {[r for r in received if r[0] != '/done'][:3]}")
    require_alive(continuo, "the flood")
    before = client.status()["osc_dropped"]
    client.send(bundle([one] * (per_bundle + 200)))
    client.expect_no_reply("an oversize bundle")
    if client.status()["osc_dropped"] != before + 1:
        jf.fail("an oversize bundle was not counted")


def not_allowed(server):
    """A sender outside osc.allow hears nothing; the drop is logged at debug level."""
    continuo, client = start(server, "osc.allow=[\"10.0.0.0/8\"]", "log.level=debug")
    client.send(message("/continuo/status"))
    client.expect_no_reply("a sender outside osc.allow")
    jf.wait_until(lambda: "not in osc.allow" in continuo.stderr(), 5, what="the debug line of the drop")
    continuo.stop_checked()
    print("allowlist: a sender outside osc.allow is dropped and logged", flush=True)


def port_taken_or_bind_wrong(server, port):
    """A second engine on a taken port plays on without OSC; a bad osc.bind stops the start."""
    second = jf.Continuo(server, ["--model", "double:counter", "--set", f"osc.port={port}"],
                         client="continuo2").start()
    jf.wait_until(lambda: "playing on without OSC" in second.stderr(), 10, what="the taken-port message")
    second.stop_checked()
    result = jf.run_cli(["run", "--server", server.name, "--client-name", "continuo3", "--model", "double:counter",
                         "--set", "osc.bind=not-an-address"], timeout=30, env=server.env)
    if result.returncode != 1 or 'osc.bind: "not-an-address" is not an IP address' not in result.stderr:
        jf.fail(f"a bad osc.bind should stop the start with exit 1:\n{result}")
    print("a taken port leaves the engine playing without OSC; a bad osc.bind stops it", flush=True)


def prompts(server):
    """A model with a text tower takes prompts, blends and slots; status shows them."""
    continuo, client = start(server, model=TEXT_MODEL)
    tokens = lambda status: [status[f"style_token_{i}"] for i in range(12)]
    client.expect_done("/continuo/prompt", "warm jazz piano")
    first = client.status()
    if first["prompts"] != "warm jazz piano=1" or not all(0 <= t < 4 for t in tokens(first)):
        jf.fail(f"after /continuo/prompt: {first}")
    client.expect_done("/continuo/prompts", "warm jazz piano", 1.0, "loud rock drums", 2.0)
    blend = client.status()
    if blend["prompts"] != "warm jazz piano=1; loud rock drums=2" or blend["control_version"] <= first["control_version"]:
        jf.fail(f"after /continuo/prompts: {blend}")
    client.expect_done("/continuo/prompt/2/weight", 0.0)
    client.expect_done("/continuo/prompt/5/text", "ambient pads")
    slots = client.status()
    if slots["prompts"] != "warm jazz piano=1; ambient pads=1":
        jf.fail(f"after the slot changes: {slots}")
    client.expect_done("/continuo/prompt", "warm jazz piano")
    if tokens(client.status()) != tokens(first):
        jf.fail("the same prompt gave other tokens")
    client.expect_fail("/continuo/prompt/9/text", ("x",), "prompt slot must be 1..8, got 9")
    client.expect_fail("/continuo/prompt", ("x", -1.0), "prompt weight must be a finite number >= 0")
    final, _ = continuo.stop_checked()
    print(f"prompts: tokens {tokens(first)} for 'warm jazz piano', status at exit {final}", flush=True)


def main():
    with jf.JackServer("osc") as server:
        server.start()
        continuo, client = start(server)
        round_trips(client)
        refusals(client, continuo)
        drops(client, continuo)
        floods(client, continuo)
        port_taken_or_bind_wrong(server, client.target[1])
        status = client.status()
        if status["underruns"] != 0:
            jf.fail(f"{status['underruns']} underruns while taking OSC: {status}")
        frames = status["frames_generated"]
        time.sleep(0.5)
        if client.status()["frames_generated"] <= frames:
            jf.fail("the generator stopped")
        final, _ = continuo.stop_checked()
        print(f"final status {final}", flush=True)
        if final["underruns"] != 0:
            jf.fail(f"{final['underruns']} underruns")
        not_allowed(server)
        prompts(server)


if __name__ == "__main__":
    jf.run_test(main)
