#!/usr/bin/env python3
"""continuo as an NSM (New Session Manager, API 1.1) client, against a stand-in server
written here, since Debian does not package nsmd: the announce carries continuo's name,
capabilities, API version and pid; nothing registers with JACK before /nsm/client/open;
the open's client id names the JACK client; /nsm/client/save writes the controls under
the session path and is answered /reply; SIGTERM ends the process cleanly; a restart in
the same session plays with the saved controls (mute, prompt slots and style tokens
among them) and the MIDI knob learned in it. An unreadable saved state is named in the
open's reply and the log, kept aside as <file>.bad and never written over, and the
session starts from the config. A save cut short between its renames is finished at the
next open, before either file is read. Bad NSM_URLs, a server that refuses the announce and a
failed start are clear errors, and an open is always answered."""

import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

CLIENT_ID = "nTestA"
# The tiny MRT2 package with a text tower: prompts blend to style tokens 0..31.
TEXT_MODEL = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny_text")
LEARN_CC = 21  # not in the default cc_map
JACK_MIDI_SEND = os.path.join(os.path.dirname(jf.JACK_RECORD), "jack_midi_send")


class StandInServer:
    """The server side of the NSM protocol on a loopback UDP port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"osc.udp://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.client = None  # the address continuo sends from

    def receive(self, what, timeout=20.0):
        self.sock.settimeout(timeout)
        try:
            data, self.client = self.sock.recvfrom(65536)
        except socket.timeout:
            jf.fail(f"the stand-in NSM server got no {what} within {timeout} s")
        return osc.parse(data)

    def send(self, address, *args):
        self.sock.sendto(osc.message(address, *args), self.client)

    def expect_reply(self, command):
        address, _, args = self.receive(f"answer to {command}")
        if address != "/reply" or args[:1] != [command] or len(args) != 2:
            jf.fail(f"{command}: expected /reply {command} <message>, got {address} {args}")
        return args[1]

    def expect_error(self, command, code):
        address, tags, args = self.receive(f"answer to {command}")
        if address != "/error" or tags != "sis" or args[:2] != [command, code]:
            jf.fail(f"{command}: expected /error {command} {code} <message>, got {address} {args}")
        return args[2]

    def expect_announce(self, proc):
        address, tags, args = self.receive("/nsm/server/announce")
        if address != "/nsm/server/announce" or tags != "sssiii":
            jf.fail(f"expected /nsm/server/announce sssiii, got {address} {tags} {args}")
        name, capabilities, executable, major, minor, pid = args
        if (name, executable, major, minor, pid) != ("continuo", "continuo", 1, 1, proc.pid):
            jf.fail(f"announce: expected continuo continuo 1 1 {proc.pid}, got {args}")
        if capabilities and not (capabilities.startswith(":") and capabilities.endswith(":")):
            jf.fail(f"announce: capabilities must be empty or :cap:cap:, got {capabilities!r}")

    def welcome(self):
        self.send("/reply", "/nsm/server/announce", "hello from the stand-in", "stand-in nsmd", ":server-control:")


def launch(server, nsm_url, args):
    env = dict(server.env, NSM_URL=nsm_url)
    log = os.path.join(server.dir, f"continuo-{len(os.listdir(server.dir))}.stderr")
    with open(log, "wb") as err:
        proc = jf.spawn([jf.CONTINUO] + args, env=env, stdout=err, stderr=err)
    return proc, log


def read(path):
    with open(path, "rb") as f:
        return f.read().decode(errors="replace")


def finished(proc, log, what):
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        jf.fail(f"{what}: continuo still runs:\n{read(log)}")
    return rc, read(log)


def end_cleanly(proc, log, which="SIGTERM"):
    """SIGTERM, as NSM ends a client: continuo must exit 0."""
    proc.send_signal(signal.SIGTERM)
    rc, text = finished(proc, log, "SIGTERM")
    if rc != 0:
        jf.fail(f"continuo exited with {rc} on {which}:\n{text}")


def write_session_files(session_path, files):
    os.makedirs(session_path)
    for name, text in files.items():
        with open(os.path.join(session_path, name), "w") as f:
            f.write(text)


def move_knob(server, value):
    """A JACK MIDI controller sends CC LEARN_CC = value to the session's client."""
    argv = [JACK_MIDI_SEND, "--server", server.name, "--client", "controller", "--connect", f"{CLIENT_ID}:midi_in",
            "--per-cycle", "1", "--repeat", "1", f"b0 {LEARN_CC:02x} {value:02x}"]
    result = subprocess.run(argv, env=server.env, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        jf.fail(f"jack_midi_send exited with {result.returncode}: {(result.stdout + result.stderr).decode()}")


def open_session(server, nsm, session_path, osc_port, expect_in_reply=()):
    """Starts continuo under the stand-in server and opens it in session_path; the open's
    reply must contain each of expect_in_reply."""
    proc, log = launch(server, nsm.url, ["run", "--model", TEXT_MODEL, "--lookahead-ms", "300",
                                         "--set", "model.prefill_frames=50",
                                         "--set", f"osc.port={osc_port}", "--set", "midi.takeover=\"none\""])
    nsm.expect_announce(proc)
    nsm.welcome()
    # NSM's rule: no JACK client before the open.
    ours = [p for p in server.ports() if not p.startswith("system:")]
    if ours:
        jf.fail(f"ports registered before /nsm/client/open: {ours}")
    nsm.send("/nsm/client/open", session_path, "Test session", CLIENT_ID)
    message = nsm.expect_reply("/nsm/client/open")
    print(f"open answered: {message}", flush=True)
    for part in expect_in_reply:
        if part not in message:
            jf.fail(f"the open's reply should name {part!r}: {message}")
    server.wait_ports([f"{CLIENT_ID}:out_l", f"{CLIENT_ID}:out_r"], proc=proc)
    jf.wait_until(lambda: "osc: listening" in read(log), 10, what="the OSC server's start-up line")
    return proc, log


def save_and_restore(server):
    nsm = StandInServer()
    session_path = os.path.join(jf.tmpdir("nsm-session"), "Test session", "continuo.nTestA")
    port = osc.free_udp_port()
    proc, log = open_session(server, nsm, session_path, port)
    client = osc.Client(port)
    client.expect_done("/continuo/temperature", 0.5)
    client.expect_done("/continuo/topk", 7)
    client.expect_done("/continuo/cfg/style", 2.5)
    client.expect_done("/continuo/volume", -6.5)
    client.expect_done("/continuo/mute", 1)
    # Slot 1 in play; slot 3 kept at weight 0 with text that reads as a number. The tokens
    # set after the prompts replace their blend, and must come back as set.
    client.expect_done("/continuo/prompt/1/text", 'warm "jazz" piano')
    client.expect_done("/continuo/prompt/1/weight", 0.75)
    client.expect_done("/continuo/prompt/3/text", "1984")
    client.expect_done("/continuo/prompt/3/weight", 0.0)
    tokens = [3, -1, 31, 0, 5, 6, 7, 8, 9, 10, 11, 12]
    client.expect_done("/continuo/style/tokens", *tokens)
    client.send(osc.message("/continuo/learn", "temperature"))
    move_knob(server, 0)  # binds; changes nothing
    bound = client.receive(5.0)
    if bound != ("/done", "ssi", ["/continuo/learn", "temperature", LEARN_CC]):
        jf.fail(f"expected /done /continuo/learn temperature {LEARN_CC}, got {bound}")
    learned = read(os.path.join(session_path, "midi-learn.map"))
    if f"{LEARN_CC} temperature" not in learned:
        jf.fail(f"midi-learn.map in the session lacks the learned knob:\n{learned}")

    nsm.send("/nsm/client/save")
    nsm.expect_reply("/nsm/client/save")
    state = read(os.path.join(session_path, "session.toml"))
    for line in ("temperature = 0.5", "top_k = 7", "cfg_style = 2.5", "volume_db = -6.5",
                 "style_tokens = [3, -1, 31, 0, 5, 6, 7, 8, 9, 10, 11, 12]"):
        if line not in state:
            jf.fail(f"session.toml lacks '{line}':\n{state}")
    print("session.ctl:\n" + read(os.path.join(session_path, "session.ctl")), end="", flush=True)

    end_cleanly(proc, log)

    proc, log = open_session(server, nsm, session_path, port)
    status = client.status()
    restored = {"temperature": 0.5, "top_k": 7, "cfg_style": 2.5, "volume_db": -6.5, "muted": 1,
                "prompts": 'warm "jazz" piano=0.75'}
    for key, value in restored.items():
        if status[key] != value:
            jf.fail(f"after the restart {key} is {status[key]}, saved {value}:\n{read(log)}")
    if [status[f"style_token_{i}"] for i in range(12)] != tokens:
        jf.fail(f"after the restart the style tokens are not the saved ones: {status}")
    # Slot 3 came back too: weighted up, it joins the blend.
    client.expect_done("/continuo/prompt/3/weight", 0.5)
    if client.status()["prompts"] != 'warm "jazz" piano=0.75; 1984=0.5':
        jf.fail(f"slot 3 was not restored: prompts {client.status()['prompts']!r}")
    move_knob(server, 127)  # the knob learned in the session: temperature 0.1 .. 2.5
    jf.wait_until(lambda: abs(client.status()["temperature"] - 2.5) < 1e-3, 10,
                  what="the knob learned before the restart to set the temperature")
    # A second open while running: refused, since continuo cannot switch sessions.
    nsm.send("/nsm/client/open", session_path + "-other", "Other", "nOther")
    print("second open refused:", nsm.expect_error("/nsm/client/open", -8), flush=True)
    # A server /error is logged, and the client plays on.
    nsm.send("/error", "/nsm/client/progress", -1, "stand-in complaint")
    jf.wait_until(lambda: "stand-in complaint" in read(log), 10, what="the server's error in the log")
    end_cleanly(proc, log, "the second SIGTERM")
    print("controls and a learned knob saved, restored after a restart", flush=True)


def bad_state_is_kept_aside(server):
    """Unreadable session.toml and session.ctl: the open is answered /reply naming each
    file, line and key; each is renamed <file>.bad (.bad.2 when .bad is taken), untouched;
    the session plays from the config; and a save writes fresh files beside them."""
    nsm = StandInServer()
    session_path = os.path.join(jf.tmpdir("nsm-bad"), "continuo.nTestA")
    bad_toml = "[control]\ntemperature = 99\n"
    bad_ctl = "0 /continuo/mute 1\n0 /continuo/volum 3\n"
    write_session_files(session_path, {"session.toml": bad_toml, "session.ctl": bad_ctl, "session.ctl.bad": "older\n"})
    port = osc.free_udp_port()
    proc, log = open_session(server, nsm, session_path, port,
                             expect_in_reply=("session.toml:2", "control.temperature", "session.toml.bad",
                                              "session.ctl:2: /continuo/volum: Command not found",
                                              "session.ctl.bad.2"))
    kept = {"session.toml.bad": bad_toml, "session.ctl.bad.2": bad_ctl, "session.ctl.bad": "older\n"}
    for name, text in kept.items():
        if read(os.path.join(session_path, name)) != text:
            jf.fail(f"{name} is not the unreadable file as it was")
    text = read(log)
    if "control.temperature" not in text or "session.ctl:2" not in text:
        jf.fail(f"the log should name both unreadable files:\n{text}")
    status = osc.Client(port).status()
    if abs(status["temperature"] - 1.1) > 1e-6 or status["muted"] != 0:
        jf.fail(f"expected the config's temperature 1.1 and no mute, got {status['temperature']}, {status['muted']}")
    nsm.send("/nsm/client/save")
    nsm.expect_reply("/nsm/client/save")
    if "temperature = 1.1" not in read(os.path.join(session_path, "session.toml")):
        jf.fail("the save after a bad state did not write a fresh session.toml")
    for name, text in kept.items():
        if read(os.path.join(session_path, name)) != text:
            jf.fail(f"the save wrote over {name}")
    end_cleanly(proc, log)
    print("unreadable state kept aside, the session played from the config", flush=True)


def interrupted_save_is_finished(server):
    """A save cut short between its renames (session.saving lists the files, session.ctl's new
    text still in session.ctl.next): the open finishes it before reading, so the session
    starts with both new files, not the new controls with the old mute."""
    nsm = StandInServer()
    session_path = os.path.join(jf.tmpdir("nsm-interrupted"), "continuo.nTestA")
    write_session_files(session_path, {
        "session.toml": "[control]\ntemperature = 0.7\n", "session.ctl": "0 /continuo/mute 0\n",
        "session.ctl.next": "0 /continuo/mute 1\n",
        "session.saving": "session.toml\nsession.ctl\n"})
    port = osc.free_udp_port()
    proc, log = open_session(server, nsm, session_path, port)
    status = osc.Client(port).status()
    if abs(status["temperature"] - 0.7) > 1e-6 or status["muted"] != 1:
        jf.fail(f"expected the finished save's temperature 0.7 and mute, got {status['temperature']}, "
                f"{status['muted']}:\n{read(log)}")
    if sorted(os.listdir(session_path)) != ["session.ctl", "session.toml"]:
        jf.fail(f"left in the session: {sorted(os.listdir(session_path))}")
    if "finished it" not in read(log):
        jf.fail(f"the log should say the interrupted save was finished:\n{read(log)}")
    end_cleanly(proc, log)
    print("an interrupted save was finished at the open", flush=True)


def failed_start_is_refused(server):
    """A model that cannot load: the open is answered /error, never left hanging."""
    nsm = StandInServer()
    session_path = os.path.join(jf.tmpdir("nsm-nomodel"), "continuo.nTestA")
    proc, log = launch(server, nsm.url, ["run", "--model", "no-such-model", "--set", "osc.enabled=false"])
    nsm.expect_announce(proc)
    nsm.welcome()
    nsm.send("/nsm/client/open", session_path, "No model", CLIENT_ID)
    why = nsm.expect_error("/nsm/client/open", -1)
    if "no-such-model" not in why:
        jf.fail(f"the refusal should name the model: {why}")
    rc, text = finished(proc, log, "a model that cannot load")
    if rc == 0 or "no-such-model" not in text:
        jf.fail(f"expected a failed start naming the model, got {rc}:\n{text}")
    print(f"open refused: {why}", flush=True)


def refused_announce(server):
    nsm = StandInServer()
    proc, log = launch(server, nsm.url, ["run", "--model", "double:counter"])
    nsm.expect_announce(proc)
    nsm.send("/error", "/nsm/server/announce", -2, "incompatible API version")
    rc, text = finished(proc, log, "a refused announce")
    if rc == 0 or "refused the announce" not in text or "incompatible API version" not in text:
        jf.fail(f"expected a clear error for the refused announce, got {rc}:\n{text}")


def bad_urls(server):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    nobody = silent.getsockname()[1]
    silent.close()  # nothing listens there now
    cases = [("http://127.0.0.1:1234/", "expected osc.udp://host:port/"),
             ("osc.udp://no-such-host.invalid:1234/", "cannot resolve"),
             (f"osc.udp://127.0.0.1:{nobody}/", "connection refused")]
    for url, reason in cases:
        # No arguments, as a session manager starts its clients: under NSM that means run.
        proc, log = launch(server, url, [])
        rc, text = finished(proc, log, f"NSM_URL={url}")
        if rc == 0 or "NSM_URL" not in text or reason not in text:
            jf.fail(f"NSM_URL={url}: expected a failure naming NSM_URL and '{reason}', got {rc}:\n{text}")
        print(f"NSM_URL={url}: {text.strip().splitlines()[-1]}", flush=True)


def main():
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    with jf.JackServer("nsm") as server:
        server.start()
        save_and_restore(server)
        bad_state_is_kept_aside(server)
        interrupted_save_is_finished(server)
        failed_start_is_refused(server)
        refused_announce(server)
        bad_urls(server)


if __name__ == "__main__":
    jf.run_test(main)
