#!/usr/bin/env python3
"""/continuo/prompt/N/audio on a private jackd, from a real UDP OSC client, with a package
whose [musiccoca] has the audio path (the converted stand-ins of tests/fixtures/musiccoca on
the tiny LM). A file in prompts.dir and the last seconds of continuo's JACK inputs (fed by a
double:chords instance) each become a prompt slot: /done once embedded, and the style tokens
in the status change with them. The take recorded meanwhile replays sample for sample from
its journal (the tokens are journaled; the audio need not be heard again), and differs
without the journal's style lines: the prompts changed the output. Paths out of
prompts.dir, silent and clipped audio, and a model without a style encoder are refused with
the reason; the engine plays on throughout, without underruns."""

import math
import os
import random
import struct
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_musiccoca_prompt as coca  # noqa: E402
import test_prefill_live as live  # noqa: E402
import test_record as rec  # noqa: E402
from test_osc import start  # noqa: E402

AUDIO_KEYS = """audio_preprocessor = "musiccoca_audio_preprocessor.graph.toml"
music_encoder = "musiccoca_music_encoder.graph.toml"
"""


def slot(n):
    return f"/continuo/prompt/{n}/audio"


def write_wav(path, frames, rate=44100):
    """16-bit stereo; frames: (left, right) pairs in [-1, 1]."""
    with wave.open(path, "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(b"".join(struct.pack("<hh", *(round(max(-1.0, min(1.0, x)) * 32767) for x in pair))
                               for pair in frames))


def prompt_files(tmp):
    """prompts.dir with a tone in noise, silence and a clipped square; a file outside it
    and a symbolic link to that file inside it."""
    prompts = os.path.join(tmp, "prompts")
    os.makedirs(prompts)
    noise = random.Random(8)
    rate = 44100
    tone = [0.3 * math.sin(2 * math.pi * 2000 * i / rate) + 0.05 * noise.uniform(-1, 1) for i in range(rate)]
    write_wav(os.path.join(prompts, "tone.wav"), [(x, x) for x in tone])
    write_wav(os.path.join(prompts, "silent.wav"), [(0.0, 0.0)] * rate)
    write_wav(os.path.join(prompts, "hot.wav"), [(1.0, -1.0) if (i // 50) % 2 else (-1.0, 1.0) for i in range(rate)])
    outside = os.path.join(tmp, "outside.wav")
    write_wav(outside, [(x, x) for x in tone])
    os.symlink(outside, os.path.join(prompts, "link.wav"))
    return prompts, outside


def answer(client, address, *args, timeout=60.0):
    """The later reply to an audio prompt: nothing at once, then /done or /fail."""
    client.send(live.osc.message(address, *args))
    reply = client.receive(timeout)
    if reply is None:
        jf.fail(f"no reply to {address} {args} within {timeout} s")
    return reply


def expect_done(client, player, address, *args):
    reply = answer(client, address, *args)
    if reply[0] != "/done" or reply[2] != [address]:
        jf.fail(f"{address} {args}: expected /done, got {reply}\n{player.stderr()[-3000:]}")


def expect_later_fail(client, address, args, reason_start):
    reply = answer(client, address, *args)
    if reply[0] != "/fail" or reply[2][0] != address or not reply[2][1].startswith(reason_start):
        jf.fail(f"{address} {args}: expected /fail {address} '{reason_start}...', got {reply}")
    print(f"{address} {' '.join(map(str, args))}: /fail {reply[2][1]}", flush=True)


def settle(player):
    """Waits for a few frames generated: the tokens just set reached the model (and the
    journal) before the next change."""
    at = player.status_now()["frames_generated"]
    player.wait_status(lambda st: st["frames_generated"] >= at + 4, 30, "4 frames generated")


def tokens(status):
    return [status[f"style_token_{i}"] for i in range(12)]


def main():
    tmp = jf.tmpdir("audio_prompt")
    model = coca.package(tmp)
    with open(os.path.join(model, "model.toml"), "a") as f:
        f.write(AUDIO_KEYS)
    prompts, outside = prompt_files(tmp)
    with jf.JackServer("audioprompt") as server:
        server.start()
        player, client = start(server, f"prompts.dir={prompts}", f"record.dir={os.path.join(tmp, 'takes')}", model=model)
        chords, chords_client = live.source(server, "double:chords", "chords")
        before = player.status_now()

        # Refused at once, before any audio is read.
        chords_client.expect_fail(slot(1), ("live",), "this model has no style encoder")
        client.expect_fail(slot(9), ("live", 1.0), "prompt slot must be 1..8, got 9")
        client.expect_fail(slot(1), ("live", 31.0), "seconds must be greater than 0 and at most 30")
        client.expect_fail(slot(1), ("loud",), 'expects s "live" [f seconds, default 10] or s "file" s')
        client.expect_fail(slot(1), ("file", "../outside.wav"), "'../outside.wav' climbs out with '..'")
        client.expect_fail(slot(1), ("file", outside), "is an absolute path")
        client.expect_fail(slot(1), ("file", "link.wav"), "'link.wav' leads outside prompts.dir (a symbolic link)")
        client.expect_fail(slot(1), ("file", "missing.wav"), "'missing.wav' in prompts.dir")

        # A file: embedded on the worker, then the slot's tokens apply.
        audio, journal = rec.record_reply(client, 1)
        expect_done(client, player, slot(1), "file", "tone.wav")
        status = client.status()
        from_file = tokens(status)
        if status["prompts"] != "[audio file tone.wav]=1" or not all(0 <= t < 16 for t in from_file):
            jf.fail(f"after the file prompt: prompts '{status['prompts']}', tokens {from_file}")
        settle(player)
        expect_later_fail(client, slot(1), ("file", "silent.wav"), "'silent.wav' is silent: RMS")
        expect_later_fail(client, slot(1), ("file", "hot.wav"), "'hot.wav' is clipped:")

        # The input: silent with nothing connected, then the chords double playing into it.
        live.feed(server, player, None)
        expect_later_fail(client, slot(1), ("live", 2.0), "the input is silent")
        live.feed(server, player, "chords")
        expect_done(client, player, slot(1), "live", 2.0)
        status = client.status()
        from_input = tokens(status)
        if status["prompts"] != "[audio live 2 s]=1":
            jf.fail(f"after the live prompt: prompts '{status['prompts']}'")
        if from_input == from_file:
            jf.fail(f"the chords on the input gave the tone file's tokens {from_file}")
        settle(player)
        # Blended with a text slot: one weighted mean, other tokens again.
        client.expect_done("/continuo/prompt/2/text", "warm jazz piano")
        client.expect_done("/continuo/prompt/2/weight", 3.0)
        blend = tokens(client.status())
        if blend == from_input:
            jf.fail("a text slot of weight 3 beside the audio slot left its tokens as they were")
        if "[audio live 2 s]=1; warm jazz piano=3" != client.status()["prompts"]:
            jf.fail(f"prompts field: {client.status()['prompts']}")
        print(f"file prompt tokens {from_file}; live {from_input}; blended with text {blend}", flush=True)
        blended_at = player.status_now()["frames_played"]
        player.wait_status(lambda st: st["frames_played"] > blended_at + 48000, 30, "a second played with the blend")
        rec.record_reply(client, 0)
        print("".join(line + "\n" for line in player.stderr().splitlines() if "embedded" in line), end="", flush=True)

        final, _ = player.stop_checked()
        if final["underruns"] != 0 or final["frames_generated"] <= before["frames_generated"]:
            jf.fail(f"the engine did not play on: before {before}, at the end {final}")
        print(f"played on: frames_generated {before['frames_generated']} -> {final['frames_generated']}, "
              f"underruns {final['underruns']}", flush=True)
        chords.stop_checked()
    check_replay(tmp, audio, journal, [from_file, from_input, blend])


def check_replay(tmp, audio, journal, token_sets):
    """The take replays identically from its journal, which holds each prompt's tokens, and
    without those lines it does not."""
    changes = " ".join(rest for _, kind, rest in rec.journal_events(journal) if kind == "set")
    for tokens_applied in token_sets:
        if "style_tokens=" + ",".join(map(str, tokens_applied)) not in changes:
            jf.fail(f"{journal}: no style_tokens line with {tokens_applied}: {changes}")
    _, recorded = rec.read_sndfile(audio)
    out = os.path.join(tmp, "replay.wav")
    rec.replay(journal, out)
    n = rec.require_identical(recorded, rec.read_sndfile(out)[1], "replay of the take with audio prompts")
    take = next(frame for frame, kind, _ in rec.journal_events(journal) if kind == "take")
    bare, bare_out = os.path.join(tmp, "bare.journal"), os.path.join(tmp, "bare.wav")
    rec.without_controls(journal, bare, take)
    rec.replay(bare, bare_out)
    _, without = rec.read_sndfile(bare_out)
    if len(without) == len(recorded) and (without.view("uint32") == recorded.view("uint32")).all():
        jf.fail("the replay without the prompts' style lines is the same audio: the prompts changed nothing")
    print(f"take: {n} frames, replay identical; without the prompts' style lines it differs", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
