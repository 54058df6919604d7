"""midi.backend = "alsa" in `continuo run`. Everywhere: the engine starts, and when the
ALSA sequencer cannot be opened its error names the sequencer and the port, and MIDI
comes from the JACK port instead (a JACK MIDI note is held). Where the kernel offers
/dev/snd/seq: a real ALSA client (alsa_midi_send, RtMidi's ALSA output) plays a note into
continuo's virtual sequencer port and the engine holds it; a port name that matches
nothing is named in the error with the ports there are.

Exits 77 (ctest: skipped) after the first part where there is no /dev/snd/seq, saying so."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

TOOLS = os.path.dirname(jf.JACK_RECORD)
JACK_MIDI_SEND = os.path.join(TOOLS, "jack_midi_send")
ALSA_MIDI_SEND = os.path.join(TOOLS, "alsa_midi_send")
SKIP = 77
HAS_SEQ = os.path.exists("/dev/snd/seq")


def held(continuo, notes, what):
    continuo.wait_status(lambda s: s.get("midi", {}).get("held_notes") == notes, 20.0, what)


def run(server, client, *settings):
    args = ["--model", "double:counter", "--set", "osc.enabled=false", "--set", "midi.backend=alsa"]
    for s in settings:
        args += ["--set", s]
    return jf.Continuo(server, args, client=client).start()


def without_sequencer(server):
    continuo = run(server, "continuo_noseq", "midi.alsa_port=nanoKONTROL")
    jf.wait_until(lambda: "taking MIDI from the JACK port" in continuo.stderr(), 10, what="the ALSA error line")
    line = next(l for l in continuo.stderr().splitlines() if "taking MIDI from the JACK port" in l)
    for part in ("cannot open the ALSA sequencer", 'midi.alsa_port "nanoKONTROL"', "/dev/snd/seq"):
        if part not in line:
            jf.fail(f"the error should name {part!r}: {line}")
    result = subprocess.run([JACK_MIDI_SEND, "--server", server.name, "--client", "controller", "--connect",
                             "continuo_noseq:midi_in", "90 3c 64"], env=server.env, capture_output=True, timeout=60)
    if result.returncode != 0:
        jf.fail(f"jack_midi_send: {result}")
    held(continuo, [60], "the JACK MIDI note held after falling back")
    continuo.stop_checked()
    print(f"no sequencer: {line.split('midi: ', 1)[-1]}; JACK MIDI plays on", flush=True)


def with_sequencer(server):
    continuo = run(server, "continuo_alsa")
    jf.wait_until(lambda: "midi: ALSA sequencer, listening to virtual input port" in continuo.stderr(), 10,
                  what="the virtual port line")
    result = subprocess.run([ALSA_MIDI_SEND, "--port", "continuo_alsa", "90 3c 64", "90 40 64", "80 3c 00"],
                            capture_output=True, timeout=30)
    if result.returncode != 0:
        jf.fail(f"alsa_midi_send: {result}")
    held(continuo, [64], "the ALSA notes reaching the engine (60 released, 64 held)")
    continuo.stop_checked()
    missing = run(server, "continuo_alsa2", "midi.alsa_port=no-such-controller-xyz")
    jf.wait_until(lambda: "taking MIDI from the JACK port" in missing.stderr(), 10, what="the no-port error")
    if 'midi.alsa_port "no-such-controller-xyz": no ALSA sequencer port matches (ports:' not in missing.stderr():
        jf.fail(f"the error should name the port and list the others:\n{missing.stderr()}")
    missing.stop_checked()
    print("ALSA sequencer: a real client's notes held; an unknown port named with the ports there are", flush=True)


def main():
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    jf.require_binary(ALSA_MIDI_SEND, "alsa_midi_send")
    with jf.JackServer("midialsa") as server:
        server.start()
        if not HAS_SEQ:
            without_sequencer(server)
            print("SKIP: this kernel offers no ALSA sequencer (/dev/snd/seq is missing: no snd-seq module or no "
                  "/dev/snd in this container), so no ALSA client can reach continuo; checked only the error and "
                  "the JACK MIDI fallback. unit_tests MidiAlsa* cover RtMidi's callback into the MIDI ring.",
                  flush=True)
            sys.exit(SKIP)
        with_sequencer(server)


if __name__ == "__main__":
    jf.run_test(main)
