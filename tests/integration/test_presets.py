"""Presets end to end: `continuo run --config` with two [[presets]] on a private jackd, a
JACK MIDI controller (jack_midi_send) on continuo:midi_in and OSC by hand. A program
change recalls its preset: every value it sets shows in /continuo/status.reply at one
control version; a program no preset has changes nothing; /continuo/preset <name> recalls
by name (/done) and an unknown name answers /fail."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402
from test_midi import JACK_MIDI_SEND, send  # noqa: E402

CONFIG = """\
[midi]
channel = 2

[[presets]]
name = "calm"
program = 5
style_tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1]
temperature = 0.5
top_k = 7
cfg_style = 1.5
cfg_notes = 2.5
cfg_drums = 3.5
drums = 0

[[presets]]
name = "hot"
program = 6
temperature = 1.9
"""

CALM = {"temperature": 0.5, "top_k": 7, "cfg_style": 1.5, "cfg_notes": 2.5, "cfg_drums": 3.5, "drums": 0,
        "style_token_0": 1, "style_token_10": 11, "style_token_11": -1}


def start(server, config_path):
    port = osc.free_udp_port()
    args = ["--config", config_path, "--model", "double:counter", "--lookahead-ms", "300",
            "--set", f"osc.port={port}"]
    continuo = jf.Continuo(server, args).start()
    continuo.wait_osc()
    return continuo, osc.Client(port)


def matches(status, expected):
    return all(abs(status[k] - v) < 1e-4 for k, v in expected.items())


def main():
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    config_path = os.path.join(jf.tmpdir("presets"), "presets.toml")
    with open(config_path, "w") as f:
        f.write(CONFIG)
    with jf.JackServer("presets") as server:
        server.start()
        continuo, client = start(server, config_path)
        before = client.status()
        if matches(before, CALM):
            jf.fail(f"the engine starts with the preset's values already: {before}")

        # Channel 1 is filtered (midi.channel = 2), program 9 has no preset: nothing changes.
        send(server, ["c0 05", "c1 09"])
        time.sleep(0.5)
        unchanged = client.status()
        if unchanged["control_version"] != before["control_version"]:
            jf.fail(f"a filtered or unknown program change changed the controls: {before} -> {unchanged}")

        send(server, ["c1 05"])  # program 5 on channel 2
        deadline = time.monotonic() + 10
        status = client.status()
        while not matches(status, CALM):
            if time.monotonic() > deadline:
                jf.fail(f"program change 5 did not recall calm: {status}")
            time.sleep(0.05)
            status = client.status()
        if status["control_version"] != before["control_version"] + 1:
            jf.fail(f"the preset took {status['control_version'] - before['control_version']} versions, not one")

        client.expect_done("/continuo/preset", "hot")
        hot = client.status()
        if abs(hot["temperature"] - 1.9) > 1e-4 or hot["top_k"] != 7:
            jf.fail(f"/continuo/preset hot: expected temperature 1.9 and top_k left at 7, got {hot}")
        client.expect_fail("/continuo/preset", ["nope"], 'no preset named "nope"')
        continuo.stop_checked()
        print("presets: program change and /continuo/preset recall at one version", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
