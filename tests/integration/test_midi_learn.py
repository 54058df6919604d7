"""MIDI learn end to end: `continuo run` on a private jackd, a JACK MIDI controller
(jack_midi_send) on continuo:midi_in and OSC by hand. /continuo/learn temperature arms it,
a CC the config does not map binds (/done /continuo/learn temperature <cc>), moving that CC
then sets the temperature (status.reply shows it), the learn file holds the binding and a
second engine loads it; a broken learn file is named by line and the engine plays on."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402
from test_midi import JACK_MIDI_SEND, send  # noqa: E402

CC = 21  # not in the default cc_map


def cc(value):
    return f"b0 {CC:02x} {value:02x}"


def main():
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    learn_file = os.path.join(jf.tmpdir("learn"), "learned.map")
    with jf.JackServer("learn") as server:
        server.start()
        continuo, client = osc.start(server, "midi.takeover=\"none\"", f"midi.learn_file=\"{learn_file}\"")
        client.expect_fail("/continuo/learn", ["temprature"], "unknown parameter")
        client.send(osc.message("/continuo/learn", "cfg_notes"))
        client.send(osc.message("/continuo/learn/cancel"))
        replies = [client.receive(5.0), client.receive(5.0)]
        if replies != [("/fail", "ss", ["/continuo/learn", "learn cancelled"]),
                       ("/done", "s", ["/continuo/learn/cancel"])]:
            jf.fail(f"cancel: expected the armed learn's /fail then /done, got {replies}")

        client.send(osc.message("/continuo/learn", "temperature"))
        client.expect_no_reply("/continuo/learn while armed")
        send(server, [cc(0)])  # binds; changes nothing
        bound = client.receive(5.0)
        if bound != ("/done", "ssi", ["/continuo/learn", "temperature", CC]):
            jf.fail(f"expected /done /continuo/learn temperature {CC}, got {bound}")
        before = client.status()["temperature"]
        send(server, [cc(127)])  # the default cc_map's temperature range: 0.1 .. 2.5
        deadline = time.monotonic() + 10
        while abs(client.status()["temperature"] - 2.5) > 1e-3:
            if time.monotonic() > deadline:
                jf.fail(f"temperature did not follow the learned CC {CC}: {client.status()['temperature']} "
                        f"(was {before})")
            time.sleep(0.05)
        with open(learn_file) as f:
            text = f.read()
        if f"{CC} temperature 0.1" not in text:
            jf.fail(f"learn file does not hold the binding: {text!r}")
        continuo.stop_checked()

        # A second engine loads the learned knob.
        continuo, client = osc.start(server, "midi.takeover=\"none\"", f"midi.learn_file=\"{learn_file}\"")
        send(server, [cc(0)])
        deadline = time.monotonic() + 10
        while abs(client.status()["temperature"] - 0.1) > 1e-3:
            if time.monotonic() > deadline:
                jf.fail(f"the learned CC {CC} did not survive a restart: {client.status()['temperature']}")
            time.sleep(0.05)
        continuo.stop_checked()

        # A broken learn file: one line naming it and the line; the engine plays on.
        with open(learn_file, "w") as f:
            f.write("# hand edited\n21 temprature 0.1 2\n")
        continuo, client = osc.start(server, f"midi.learn_file=\"{learn_file}\"")
        if f"{learn_file}:2: unknown parameter" not in continuo.stderr():
            jf.fail(f"no error naming the broken line: {continuo.stderr()[-2000:]}")
        client.expect_done("/continuo/temperature", 1.0)
        continuo.stop_checked()
        print("learn: bound, applied, saved, reloaded; broken file named", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
