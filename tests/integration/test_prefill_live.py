"""/continuo/prefill/live on a private jackd, from a real UDP OSC client. A continuo playing
the tiny MRT2 package with a SpectroStream encoder (tests/fixtures/mrt2/tiny_with_encoder)
listens on its JACK inputs to other continuo instances: with nothing connected the input is
silent (/fail with the reason); fed by a double:chords instance, the last 2 s become the
model's context (/done once applied) while the engine plays on; fed by double:counter,
whose right channel sits at -1.0 for its first 43 s, the input is clipped (/fail). Out of
range and malformed arguments are refused at once, and a test double, which has no audio
encoder, refuses with that reason. A take recorded across the prefill journals the context
(a context line with the encoded tokens at the frame it applied): `continuo replay` gives
the take sample for sample, and the same journal with the context line made a plain reset
does not (the context was recorded and mattered)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import numpy as np  # noqa: E402
import test_osc as osc  # noqa: E402
import test_record as record  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny_with_encoder")
PREFILL = "/continuo/prefill/live"
RATE = 48000
SECONDS = 2


def source(server, model, name):
    """Another continuo whose outputs feed the player's inputs."""
    port = osc.free_udp_port()
    return jf.Continuo(server, ["--model", model, "--set", f"osc.port={port}"], client=name).start(), osc.Client(port)


def answer(client, *args, timeout=60.0):
    """The reply to one /continuo/prefill/live: nothing comes at once when it starts, then
    /done or /fail once the worker has encoded and the generator applied (or refused)."""
    client.send(osc.message(PREFILL, *args))
    reply = client.receive(timeout)
    if reply is None:
        jf.fail(f"no reply to {PREFILL} {args} within {timeout} s")
    return reply


def feed(server, player, name):
    """Connects name's outputs to the player's inputs (and nothing else), then waits until
    the player has played SECONDS more seconds: its capture then holds only name's audio."""
    for other in ("chords", "counter"):
        for side in ("l", "r"):
            server.tool(["jack_disconnect", f"{other}:out_{side}", f"continuo:in_{side}"], check=False)
    if name:
        server.connect(f"{name}:out_l", "continuo:in_l")
        server.connect(f"{name}:out_r", "continuo:in_r")
    played = player.status_now()["frames_played"]
    player.wait_status(lambda s: s["frames_played"] >= played + (SECONDS + 0.5) * RATE, 60,
                       f"{SECONDS + 0.5} s played with {name or 'nothing'} on the inputs")


def as_plain_reset(journal, out_journal):
    """The journal with its context line turned into a reset with the same seed."""
    with open(journal) as f, open(out_journal, "w") as g:
        for line in f:
            parts = line.split(" ")
            g.write(f"{parts[0]} reset {parts[2]}\n" if parts[0].isdigit() and parts[1] == "context" else line)


def check_replay(journal, audio, tmp):
    events = record.journal_events(journal)
    contexts = [rest for _, kind, rest in events if kind == "context"]
    take = next(frame for frame, kind, _ in events if kind == "take")
    if len(contexts) != 1 or len(contexts[0].split(" ")[1].split(",")) < 12:
        jf.fail(f"{journal}: expected one context line with the encoded tokens: {contexts}")
    context_frame = next(frame for frame, kind, _ in events if kind == "context")
    if context_frame < take:  # the take was started before the prefill was asked for
        jf.fail(f"{journal}: the context at frame {context_frame} is not inside the take (from frame {take})")
    _, recorded = record.read_sndfile(audio)
    out = os.path.join(tmp, "prefill-replay.wav")
    record.replay(journal, out)
    _, replayed = record.read_sndfile(out)
    n = record.require_identical(recorded, replayed, "replay of the take with a live prefill")
    plain = os.path.join(tmp, "plain.journal")
    as_plain_reset(journal, plain)
    plain_out = os.path.join(tmp, "plain.wav")
    record.replay(plain, plain_out)
    _, from_silence = record.read_sndfile(plain_out)
    if np.array_equal(recorded.view(np.uint32), from_silence.view(np.uint32)):
        jf.fail("the replay with a silence prefill instead of the context is the same audio")
    print(f"take: {n} frames, context of {len(contexts[0].split(' ')[1].split(','))} tokens at frame "
          f"{context_frame}; replay identical, and different from a silence prefill", flush=True)


def main():
    tmp = jf.tmpdir("prefill")
    with jf.JackServer("prefill") as server:
        server.start()
        player, client = osc.start(server, "model.prefill_frames=50", f"record.dir={os.path.join(tmp, 'takes')}",
                                   model=PACKAGE)
        chords, chords_client = source(server, "double:chords", "chords")
        counter, _ = source(server, "double:counter", "counter")

        # Refused at once, before any audio is looked at.
        client.expect_fail(PREFILL, (31.0,), "seconds must be greater than 0 and at most 30 (input.capture_seconds)")
        client.expect_fail(PREFILL, (0.0,), "seconds must be greater than 0")
        client.expect_fail(PREFILL, ("two",), "argument 1 must be a number")
        client.expect_fail(PREFILL, (1.0, 2.0), "expects [f]")
        chords_client.expect_fail(PREFILL, (1.0,), "this model cannot take audio as context")

        feed(server, player, None)
        reply = answer(client, float(SECONDS))
        if reply[0] != "/fail" or reply[2][0] != PREFILL or not reply[2][1].startswith("the input is silent"):
            jf.fail(f"nothing connected: expected /fail {PREFILL} 'the input is silent...', got {reply}")
        print(f"nothing connected: {reply[2][1]}", flush=True)

        feed(server, player, "counter")
        reply = answer(client, float(SECONDS))
        if reply[0] != "/fail" or not reply[2][1].startswith("the input is clipped"):
            jf.fail(f"the counter connected: expected /fail {PREFILL} 'the input is clipped...', got {reply}")
        print(f"the counter connected: {reply[2][1]}", flush=True)

        feed(server, player, "chords")
        audio, journal = record.record_reply(client, 1)
        before = player.status_now()
        reply = answer(client, float(SECONDS))
        if reply[0] != "/done" or reply[2] != [PREFILL]:
            jf.fail(f"chords connected: expected /done {PREFILL}, got {reply}\n{player.stderr()[-3000:]}")
        log = player.stderr()
        if "generator: reset to the live input's context" not in log:
            jf.fail(f"/done came but the generator logged no reset to the input's context:\n{log[-3000:]}")
        print("".join(line + "\n" for line in log.splitlines() if "prefill: encoded" in line), end="", flush=True)
        after = player.wait_status(lambda s: s["frames_played"] > before["frames_played"] + RATE, 30,
                                   "a second more played after the prefill")
        print(f"chords connected: /done; played on to frame {after['frames_played']}, "
              f"underruns {before['underruns']} -> {after['underruns']}", flush=True)
        if record.record_reply(client, 0) != (audio, journal):
            jf.fail("/continuo/record 0 named other files than the take's")
        check_replay(journal, audio, tmp)

        for proc in (player, chords, counter):
            proc.stop_checked()


if __name__ == "__main__":
    jf.run_test(main)
