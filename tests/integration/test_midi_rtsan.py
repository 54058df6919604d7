"""continuo's MIDI path on a private jackd, under the RealtimeSanitizer: midi_listen runs the
engine's own JackClient (whose process callback copies the midi_in port into the MidiRing)
and MidiInput (thread, parser, sustain, CC map), and jack_midi_send plays a controller at
it: notes with running status across events, the sustain pedal, a SysEx message, an
oversize event, garbage and truncated bytes, then a flood of all of them at 64 events per
64-frame cycle. Every event must be parsed or counted as dropped, held notes must follow
the pedal, and the process callback must not commit a single real-time violation.
Runs before `continuo run` is wired to MIDI (test_midi covers the engine itself)."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

TOOLS = os.path.dirname(jf.JACK_RECORD)
MIDI_LISTEN = os.path.join(TOOLS, "midi_listen")
JACK_MIDI_SEND = os.path.join(TOOLS, "jack_midi_send")
VIOLATION = "Real-time violation"


class Listener:
    def __init__(self, server):
        self.server = server
        self.out_path = os.path.join(server.dir, "midi_listen.out")
        self.err_path = os.path.join(server.dir, "midi_listen.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = jf.spawn([MIDI_LISTEN, "--server", server.name, "--client", "listen"], env=server.env,
                                 stdout=out, stderr=err)
        server.wait_ports(["listen:midi_in"], proc=self.proc)

    def text(self, path):
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")

    def stats(self):
        if self.proc.poll() is not None:
            jf.fail(f"midi_listen exited with {self.proc.returncode}:\n{self.text(self.err_path)[-4000:]}")
        lines = [line for line in self.text(self.out_path).splitlines() if line.startswith("stats {")]
        return json.loads(lines[-1][len("stats "):]) if lines else None

    def wait(self, predicate, what):
        last = {}

        def check():
            last["stats"] = self.stats()
            return last["stats"] if last["stats"] and predicate(last["stats"]) else None

        try:
            return jf.wait_until(check, 20.0, interval=0.05, what=what)
        except TimeoutError as error:
            jf.fail(f"{error}; last stats {last.get('stats')}")


def send(server, events, per_cycle=1, repeat=1):
    argv = [JACK_MIDI_SEND, "--server", server.name, "--client", "controller", "--connect", "listen:midi_in",
            "--per-cycle", str(per_cycle), "--repeat", str(repeat)] + events
    result = subprocess.run(argv, env=server.env, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
    out = (result.stdout + result.stderr).decode(errors="replace")
    if result.returncode != 0:
        jf.fail(f"jack_midi_send exited with {result.returncode}: {out}")
    print(f"jack_midi_send: {out.strip()}", flush=True)


def main():
    jf.require_binary(MIDI_LISTEN, "midi_listen")
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    if not jf.CONTINUO_RTSAN:
        print("note: no RealtimeSanitizer runtime; midi_listen runs unchecked", flush=True)
    with jf.JackServer("midirt", period=64) as server:
        server.start()
        listener = Listener(server)
        send(server, [
            "90 3c 64",            # note on 60
            "3e 64",               # note on 62: running status across events
            "80 3c 00",            # off 60
            "90 3e 00",            # off 62: velocity 0
            "b0 40 7f",            # pedal down
            "90 43 50",            # on 67
            "80 43 00",            # released, held by the pedal
            "f0 7e 7f 06 01 f7",   # SysEx: dropped in the process callback
            "90 30 40" * 6,        # 18 bytes: oversize, dropped in the process callback
            "f7 40 41",            # a stray end of SysEx and two data bytes without status
            "90 3c",               # truncated
            "f8",                  # clock: parsed, not used
        ])
        s = listener.wait(lambda s: s["events"] >= 10, "10 events through the ring")
        print(f"after the controller: {s}", flush=True)
        expected = {"events": 10, "notes_on": 3, "notes_off": 2, "sysex": 1, "dropped": 5, "held_notes": [67]}
        wrong = {k: (s[k], v) for k, v in expected.items() if s[k] != v}
        if wrong:
            jf.fail(f"MIDI stats (got, expected): {wrong}; all: {s}")

        sysex = "f0" + "01" * 200 + "f7"
        flood = [sysex, "b0 46 10", "90 30 40", "80 30 00", "f8", "00 00 00", "f0 01 02", "90 3c 64 3c 00"]
        send(server, flood, per_cycle=64, repeat=1000)
        send(server, ["b0 40 00"])  # pedal up: 67 ends
        s = listener.wait(lambda s: not s["held_notes"] and s["notes_off"] >= 3, "the pedal released")
        print(f"after the flood: {s}", flush=True)
        arrived = s["events"] + s["sysex"] + s["dropped"]
        if s["events"] <= 10 or arrived < 8000:
            jf.fail(f"the flood did not get through: {s}")
        rc = jf.kill_process(listener.proc)
        err = listener.text(listener.err_path)
        if VIOLATION in err:
            jf.fail(f"real-time violation in the process callback while reading MIDI:\n{err[-6000:]}")
        if rc != 0:
            jf.fail(f"midi_listen exited with {rc}:\n{err[-4000:]}")


if __name__ == "__main__":
    jf.run_test(main)
