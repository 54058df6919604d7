"""MIDI into `continuo run` end to end: a JACK MIDI controller (jack_midi_send) connected to
continuo:midi_in plays notes, the sustain pedal and mapped knobs, then garbage, truncated
messages and a SysEx flood; the engine's status line ("midi": MidiStats, see docs/midi.md)
must show every note held and released, the knob picked up (soft takeover) only once it
crossed the parameter's value, and every bad byte counted, with continuo playing on and
exiting cleanly.

Exits 77 (ctest: skipped) while `continuo run` has no MIDI input wired in, i.e. while
its status line has no "midi" object. test_midi_rtsan covers the MIDI path on its own."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

JACK_MIDI_SEND = os.path.join(os.path.dirname(jf.JACK_RECORD), "jack_midi_send")
SKIP = 77


def send(server, events, per_cycle=1, repeat=1):
    argv = [JACK_MIDI_SEND, "--server", server.name, "--client", "controller", "--connect", "continuo:midi_in",
            "--per-cycle", str(per_cycle), "--repeat", str(repeat)] + events
    result = subprocess.run(argv, env=server.env, capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        jf.fail(f"jack_midi_send exited with {result.returncode}: {(result.stdout + result.stderr).decode()}")


def main():
    jf.require_binary(JACK_MIDI_SEND, "jack_midi_send")
    with jf.JackServer("midi") as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", "double:counter"]).start()
        first = continuo.status_now()
        if "midi" not in first:
            continuo.stop()
            print("SKIP: `continuo run` has no MIDI input yet (its status line has no \"midi\" object); "
                  "engine/run.cpp must create MidiInput and add MidiInput::stats() to the status "
                  "(docs/midi.md, 'Wiring'). test_midi_rtsan covers the MIDI path itself.", flush=True)
            sys.exit(SKIP)
        base = first["midi"]

        def midi_status(predicate, what):
            return continuo.wait_status(lambda s: predicate(s["midi"]), 20.0, what)["midi"]

        send(server, ["90 3c 64", "90 40 64", "90 43 64"])
        midi_status(lambda m: m["held_notes"] == [60, 64, 67], "notes 60 64 67 held")
        send(server, ["b0 40 7f", "80 3c 00", "90 40 00"])  # pedal down, then release two keys
        m = midi_status(lambda m: m["notes_on"] - base["notes_on"] == 3, "three notes on")
        if m["held_notes"] != [60, 64, 67]:
            jf.fail(f"the pedal did not hold the released notes: {m}")
        send(server, ["b0 40 00"])
        midi_status(lambda m: m["held_notes"] == [67], "the pedal released 60 and 64")

        # Knob CC 70 -> temperature 0.1..2.5 (configs/default.toml), starting at 1.1 (CC ~54):
        # with pick-up, 0 and 50 stay below the value and change nothing; 60 crosses it.
        send(server, ["b0 46 00", "b0 46 32"])
        m = midi_status(lambda m: m["control_changes"] - base["control_changes"] >= 4, "the knob's CCs")
        if m["params_set"] != base["params_set"]:
            jf.fail(f"a knob far from the value moved it (is MidiInput::sync_all called at start?): {m}")
        send(server, ["b0 46 3c"])
        midi_status(lambda m: m["params_set"] == base["params_set"] + 1, "the knob picked up")

        # The stray 0xF7 first cancels running status (left at 0xB0 by the knob): after it,
        # "40 41" is garbage, where it would otherwise be a legal CC 64 (pedal down).
        send(server, ["f7", "40 41", "90 3c", "f0 7e 7f 06 01 f7", "f0" + "00" * 300 + "f7"], per_cycle=8, repeat=200)
        m = midi_status(lambda m: m["sysex"] - base["sysex"] >= 400, "the SysEx flood counted")
        if m["dropped"] - base["dropped"] < 600:
            jf.fail(f"garbage was not counted as dropped: {m}")
        send(server, ["80 43 00"])
        midi_status(lambda m: m["held_notes"] == [], "every note off")
        status, _ = continuo.stop_checked()
        if status["frames_played"] <= 0:
            jf.fail(f"continuo did not play: {status}")
        print(f"midi at exit: {status['midi']}; xruns {status['xruns']}", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
