"""OSC over TCP against a running continuo on a private jackd: liblo's own `oscsend
osc.tcp://` (the framing TouchDesigner-side tools and liblo speak: a big-endian int32
length before each packet) steers the engine; a raw socket gets every reply on the same
connection, also for packets split across writes and for bundles; a malformed packet is
dropped and the connection goes on; an oversize length prefix and a connection past
osc.tcp_max_clients are closed; the analysis feed is computed only while subscribed and
reaches a TCP subscriber; with osc.secret a connection must authenticate first, a wrong
secret closes it, and the secret never reaches the log; a sender outside osc.allow is
closed at once."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

SECRET = "correct horse battery"


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpClient:
    """One TCP connection; replies come back on it, framed like the requests."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, packet):
        self.send_raw(struct.pack(">i", len(packet)) + packet)

    def receive(self, timeout=5.0):
        """The next reply, parsed; None on timeout; "closed" when the server hung up."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 4:
                length = struct.unpack(">i", self.buffer[:4])[0]
                if len(self.buffer) >= 4 + length:
                    packet, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
                    return osc.parse(packet)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                return "closed"
            if not data:
                return "closed"
            self.buffer += data

    def ask(self, address, *args):
        self.send(osc.message(address, *args))
        reply = self.receive()
        if reply is None or reply == "closed":
            jf.fail(f"TCP: no reply to {address} {args} ({reply})")
        return reply

    def expect_done(self, address, *args):
        reply = self.ask(address, *args)
        if reply[0] != "/done" or reply[2] != [address]:
            jf.fail(f"TCP {address} {args}: expected /done {address}, got {reply}")

    def expect_fail(self, address, args, reason_part):
        reply = self.ask(address, *args)
        if reply[0] != "/fail" or reply[2][0] != address or reason_part not in reply[2][1]:
            jf.fail(f"TCP {address} {args}: expected /fail {address} '...{reason_part}...', got {reply}")

    def expect_closed(self, what, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.receive(deadline - time.monotonic())
            if reply == "closed":
                return
            if reply is None:
                break
        jf.fail(f"TCP: the server should have closed the connection: {what}")

    def status(self):
        reply = self.ask("/continuo/status")
        if reply[0] != "/continuo/status.reply" or len(reply[2]) != len(osc.STATUS_FIELDS):
            jf.fail(f"TCP: bad status reply {reply}")
        return dict(zip(osc.STATUS_FIELDS, reply[2]))

    def close(self):
        self.sock.close()


def start(server, tcp_port, *settings, client="continuo"):
    udp_port = osc.free_udp_port()
    args = ["--model", "double:chords", "--lookahead-ms", "300", "--set", f"osc.port={udp_port}",
            "--set", "osc.tcp=true", "--set", f"osc.tcp_port={tcp_port}"]
    for setting in settings:
        args += ["--set", setting]
    continuo = jf.Continuo(server, args, client=client).start()
    continuo.wait_osc()
    return continuo, udp_port


def liblo_oscsend(tcp_port, udp):
    """liblo's oscsend over osc.tcp:// is understood: its framing is ours."""
    oscsend = shutil.which("oscsend")
    if oscsend is None:
        jf.fail("oscsend (liblo-tools) is needed: apt-get install liblo-tools")
    result = subprocess.run([oscsend, f"osc.tcp://127.0.0.1:{tcp_port}", "/continuo/temperature", "f", "0.625"],
                            capture_output=True, timeout=10)
    if result.returncode != 0:
        jf.fail(f"oscsend over TCP failed: {result}")
    jf.wait_until(lambda: abs(udp.status()["temperature"] - 0.625) < 1e-6, 5, what="temperature 0.625 from oscsend")
    subprocess.run([oscsend, f"osc.tcp://127.0.0.1:{tcp_port}", "/continuo/topk", "i", "33"], check=True, timeout=10)
    jf.wait_until(lambda: udp.status()["top_k"] == 33, 5, what="top_k 33 from oscsend")
    print("liblo's oscsend osc.tcp:// steers the engine", flush=True)


def replies_on_the_connection(tcp_port):
    c = TcpClient(tcp_port)
    c.expect_done("/continuo/temperature", 0.9)
    if abs(c.status()["temperature"] - 0.9) > 1e-6:
        jf.fail("TCP: status does not reflect the change")
    c.expect_done("/continuo/onset_mode", 0)
    c.expect_fail("/continuo/temperature", (float("nan"),), "temperature must be greater than 0")
    c.expect_fail("/continuo/bogus", (), "Command not found")
    c.expect_fail("/continuo/auth", ("x",), "osc.secret guards TCP connections only, and is not set")
    # A packet split across writes, byte by byte, then two framed packets in one write.
    packet = osc.message("/continuo/topk", 77)
    framed = struct.pack(">i", len(packet)) + packet
    for b in framed:
        c.send_raw(bytes([b]))
        time.sleep(0.002)
    reply = c.receive()
    if reply is None or reply[0] != "/done" or reply[2] != ["/continuo/topk"]:
        jf.fail(f"TCP: a packet split over writes got {reply}")
    two = osc.message("/continuo/cfg/style", 2.0), osc.message("/continuo/drums", 0)
    c.send_raw(b"".join(struct.pack(">i", len(p)) + p for p in two))
    got = [c.receive(), c.receive()]
    if [r[2][0] for r in got if r and r != "closed"] != ["/continuo/cfg/style", "/continuo/drums"]:
        jf.fail(f"TCP: two packets in one write got {got}")
    # A bundle: every message answered, in order, on the connection.
    c.send(osc.bundle([osc.message("/continuo/cfg/notes", 1.5), osc.message("/continuo/note", 60, 100),
                       osc.message("/continuo/notes/clear")]))
    got = [c.receive() for _ in range(3)]
    if [r[2][0] for r in got if r and r != "closed"] != ["/continuo/cfg/notes", "/continuo/note",
                                                          "/continuo/notes/clear"]:
        jf.fail(f"TCP: bundle replies {got}")
    # Malformed but well framed: dropped (counted), the connection goes on.
    dropped = c.status()["osc_dropped"]
    c.send(b"garbage!")
    c.send(osc.message("/continuo/temperature", 1.0)[:-4])  # truncated argument
    status = c.status()
    if status["osc_dropped"] != dropped + 2:
        jf.fail(f"TCP: malformed packets should be counted: {dropped} -> {status['osc_dropped']}")
    if status["onset_mode"] != 0 or status["top_k"] != 77 or status["cfg_notes"] != 1.5:
        jf.fail(f"TCP: status after the changes: {status}")
    c.close()
    print("TCP: replies on the connection, split and joined packets, bundles, malformed packets counted", flush=True)


def limits(tcp_port, max_clients):
    c = TcpClient(tcp_port)
    c.send_raw(struct.pack(">i", osc.MAX_MESSAGE_BYTES + 4))
    c.expect_closed("a length prefix over osc.max_message_bytes")
    c.close()
    open_ones = [TcpClient(tcp_port) for _ in range(max_clients)]
    for o in open_ones:
        o.expect_done("/continuo/drums", -1)
    extra = TcpClient(tcp_port)
    extra.expect_closed(f"connection {max_clients + 1} with osc.tcp_max_clients = {max_clients}")
    extra.close()
    open_ones[0].close()
    time.sleep(0.2)
    again = TcpClient(tcp_port)  # a slot is free again
    again.expect_done("/continuo/drums", 1)
    again.close()
    for o in open_ones[1:]:
        o.close()
    print(f"TCP limits: oversize frame closes, connection {max_clients + 1} refused, slots freed", flush=True)


def analysis_over_tcp(tcp_port, continuo):
    """The feed costs nothing until someone subscribes; a TCP subscriber gets it."""
    before = continuo.status_now()
    if before.get("analysed_frames") != 0:
        jf.fail(f"frames analysed with nobody subscribed: {before}")
    c = TcpClient(tcp_port)
    c.expect_done("/continuo/subscribe/analysis", 1)
    frames = []
    deadline = time.monotonic() + 10
    while len(frames) < 10 and time.monotonic() < deadline:
        reply = c.receive(deadline - time.monotonic())
        if reply is None or reply == "closed":
            break
        if reply[0] == "/continuo/analysis":
            frames.append(reply[2])
    if len(frames) < 10 or any(len(f) != 15 for f in frames):
        jf.fail(f"TCP: analysis feed gave {frames[:2]} ({len(frames)} frames)")
    if max(f[0] for f in frames) < -60:
        jf.fail(f"TCP: the chords double should be audible in the feed: {frames[:3]}")
    c.expect_done("/continuo/subscribe/analysis", 0)
    c.close()
    time.sleep(0.3)
    analysed = continuo.status_now()["analysed_frames"]
    time.sleep(0.5)
    if continuo.status_now()["analysed_frames"] != analysed:
        jf.fail("frames are still analysed after the last subscriber left")
    # A subscriber that just hangs up ends its subscription too.
    c = TcpClient(tcp_port)
    c.expect_done("/continuo/subscribe/analysis", 1)
    jf.wait_until(lambda: continuo.status_now()["analysed_frames"] > analysed, 5, what="analysis on again")
    c.close()
    time.sleep(0.3)
    analysed = continuo.status_now()["analysed_frames"]
    time.sleep(0.5)
    if continuo.status_now()["analysed_frames"] != analysed:
        jf.fail("a closed connection's analysis subscription was kept")
    print(f"analysis: none without subscribers, {len(frames)} frames over TCP, off again after unsubscribe "
          f"and after hang-up", flush=True)


def secret(server):
    tcp_port = free_tcp_port()
    continuo, udp_port = start(server, tcp_port, f"osc.secret={SECRET}", "osc.udp=false",
                               "osc.tcp_max_clients=4", "log.level=debug", client="continuo_secret")
    c = TcpClient(tcp_port)
    c.expect_fail("/continuo/status", (), "not authenticated: send /continuo/auth s with osc.secret first")
    c.expect_fail("/continuo/temperature", (0.5,), "not authenticated")
    c.expect_done("/continuo/auth", SECRET)
    if c.status()["temperature"] == 0.5:
        jf.fail("an unauthenticated command was applied")
    c.expect_done("/continuo/temperature", 0.5)
    wrong = TcpClient(tcp_port)
    wrong.expect_fail("/continuo/auth", ("guess",), "wrong secret; the connection closes")
    wrong.expect_closed("after a wrong secret")
    wrong.close()
    c.expect_done("/continuo/drums", 0)  # the authenticated connection is unaffected
    c.close()
    log = continuo.stderr()
    if SECRET in log:
        jf.fail("the secret appears in the log")
    if "osc.secret = \"(set, not shown)\"" not in log and "(with osc.secret)" not in log:
        jf.fail(f"the log should say a secret is set:\n{log[-2000:]}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # osc.udp = false: nobody listens
        probe.settimeout(0.5)
        probe.sendto(osc.message("/continuo/status"), ("127.0.0.1", udp_port))
        try:
            probe.recvfrom(65536)
            jf.fail("osc.udp = false still answers UDP")
        except (socket.timeout, ConnectionRefusedError):
            pass
    continuo.stop_checked()
    print("secret: commands refused until /continuo/auth, a wrong secret closes, never logged; UDP off", flush=True)


def not_allowed(server):
    tcp_port = free_tcp_port()
    continuo, _ = start(server, tcp_port, "osc.allow=[\"10.0.0.0/8\"]", "log.level=debug", client="continuo_deny")
    c = TcpClient(tcp_port)
    c.send(osc.message("/continuo/status"))
    c.expect_closed("a sender outside osc.allow")
    c.close()
    jf.wait_until(lambda: "closed a TCP connection from 127.0.0.1" in continuo.stderr(), 5,
                  what="the debug line of the refused connection")
    continuo.stop_checked()
    print("allowlist: a TCP sender outside osc.allow is closed and logged", flush=True)


def main():
    with jf.JackServer("osctcp") as server:
        server.start()
        tcp_port = free_tcp_port()
        continuo, udp_port = start(server, tcp_port, "osc.tcp_max_clients=3")
        udp = osc.Client(udp_port)
        liblo_oscsend(tcp_port, udp)
        analysis_over_tcp(tcp_port, continuo)
        replies_on_the_connection(tcp_port)
        limits(tcp_port, 3)
        status = udp.status()
        if status["underruns"] != 0:
            jf.fail(f"{status['underruns']} underruns while taking OSC over TCP: {status}")
        final, _ = continuo.stop_checked()
        print(f"final status {final}", flush=True)
        secret(server)
        not_allowed(server)


if __name__ == "__main__":
    jf.run_test(main)
