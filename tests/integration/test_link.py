#!/usr/bin/env python3
"""Two continuo instances as Ableton Link peers on one machine (docs/multi-machine.md):
with link.enabled each finds the other (link_peers = 1 in /continuo/status.reply), a tempo
set with /continuo/link/tempo on one becomes the other's, the shared beat moves on and the
phase stays within the bar; without link.enabled the command is refused. Link finds peers
by UDP multicast: exits 77 (skip) where a multicast datagram cannot reach this machine's
own sockets."""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

SKIP = 77
QUANTUM = 4.0
TEMPO = 141.5
# Link carries a tempo as microseconds per beat, so a peer reads 141.50009 for 141.5.
TEMPO_TOLERANCE = 0.001


def multicast_loops_back():
    """Whether a datagram to a multicast group comes back to a socket on this machine."""
    group = "224.76.78.75"  # Link's own group; any port will do for the probe
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        receiver.bind(("", 0))
        receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                            struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sender.sendto(b"probe", (group, receiver.getsockname()[1]))
        receiver.settimeout(2.0)
        return receiver.recv(16) == b"probe"
    except OSError:
        return False
    finally:
        receiver.close()
        sender.close()


def peer(server, name, *settings):
    port = osc.free_udp_port()
    args = ["--model", "double:counter", "--set", f"osc.port={port}"]
    for setting in settings:
        args += ["--set", setting]
    continuo = jf.Continuo(server, args, client=name).start()
    continuo.wait_osc(what=f"{name}'s OSC server")
    return continuo, osc.Client(port)


def wait_status(client, predicate, what):
    last = {}

    def check():
        last["status"] = client.status()
        return predicate(last["status"])

    try:
        jf.wait_until(check, 30, interval=0.1, what=what)
    except TimeoutError as error:
        jf.fail(f"{error}; last status {last.get('status')}")
    return last["status"]


def main():
    if not multicast_loops_back():
        print("SKIP: multicast datagrams do not come back to this machine; Link cannot find peers here", flush=True)
        sys.exit(SKIP)
    with jf.JackServer("link") as server:
        server.start()
        alone, alone_client = peer(server, "nolink")
        alone_client.expect_fail("/continuo/link/tempo", [120.0], "Link is off: set link.enabled = true")
        if alone_client.status()["link_peers"] != -1:
            jf.fail("link_peers must be -1 without link.enabled")
        alone.stop_checked()

        a, a_client = peer(server, "linka", "link.enabled=true", f"link.quantum={QUANTUM}")
        b, b_client = peer(server, "linkb", "link.enabled=true", f"link.quantum={QUANTUM}")
        wait_status(a_client, lambda s: s["link_peers"] == 1, "a to see one Link peer")
        first = wait_status(b_client, lambda s: s["link_peers"] == 1, "b to see one Link peer")

        a_client.expect_fail("/continuo/link/tempo", [10.0], "tempo must be between 20 and 999 bpm, got 10")
        a_client.expect_done("/continuo/link/tempo", TEMPO)
        later = wait_status(b_client, lambda s: abs(s["link_tempo"] - TEMPO) < TEMPO_TOLERANCE, f"b to follow a's tempo {TEMPO}")
        if not later["link_beat"] > first["link_beat"]:
            jf.fail(f"the shared beat did not move on: {first['link_beat']} then {later['link_beat']}")
        for status in (first, later, a_client.status()):
            if not 0.0 <= status["link_phase"] < QUANTUM:
                jf.fail(f"phase {status['link_phase']} outside 0..{QUANTUM}")
        print(f"b follows a: tempo {later['link_tempo']}, beat {later['link_beat']:.2f}, "
              f"phase {later['link_phase']:.2f}", flush=True)
        a.stop_checked()
        b.stop_checked()


if __name__ == "__main__":
    jf.run_test(main)
