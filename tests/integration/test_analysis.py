"""The analysis feed against a running continuo (double:chords) on a private jackd:
/continuo/subscribe/analysis 1 over OSC brings one /continuo/analysis message per frame
heard, 15 floats (loudness dBFS, onset, centroid Hz, chroma C..B); a held D major triad's
pitch classes are the chroma's three peaks; /continuo/subscribe/analysis 0 stops them."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

FIELDS = 15
TRIAD = (62, 66, 69)  # D F# A: not in the double's own progression
FRAME_S = 1920 / 48000


def collect(client, seconds):
    frames, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        reply = client.receive(0.2)
        if reply is not None and reply[0] == "/continuo/analysis":
            frames.append(reply)
    return frames


def main():
    with jf.JackServer("analysis") as server:
        server.start()
        port = osc.free_udp_port()
        continuo = jf.Continuo(server, ["--model", "double:chords", "--lookahead-ms", "300",
                                        "--set", f"osc.port={port}"]).start()
        continuo.wait_osc()
        client = osc.Client(port)
        client.expect_fail("/continuo/subscribe/analysis", (2,), "must be 0 or 1")
        for pitch in TRIAD:
            client.expect_done("/continuo/note", pitch, 100)
        client.expect_done("/continuo/subscribe/analysis", 1)
        frames = collect(client, 2.0)
        seconds_of_audio = 2.0 / FRAME_S
        if len(frames) < seconds_of_audio / 3:
            jf.fail(f"{len(frames)} analysis messages in 2 s, expected about {seconds_of_audio:.0f}")
        for address, tags, args in frames:
            if tags != "f" * FIELDS or len(args) != FIELDS:
                jf.fail(f"{address}: types {tags!r}, {len(args)} args, expected {FIELDS} floats")
        # The last second: the triad is what is heard by now (lookahead 300 ms).
        for _, _, args in frames[len(frames) // 2:]:
            loudness, onset, centroid, chroma = args[0], args[1], args[2], args[3:]
            if not -40 < loudness < 0:
                jf.fail(f"loudness {loudness} dBFS for a held triad: {args}")
            if not 0 <= onset <= 1:
                jf.fail(f"onset {onset} outside 0..1: {args}")
            if not 250 < centroid < 600:
                jf.fail(f"centroid {centroid} Hz for D4 F#4 A4: {args}")
            top = sorted(sorted(range(12), key=lambda i: -chroma[i])[:3])
            if top != sorted(p % 12 for p in TRIAD) or max(chroma) != 1.0:
                jf.fail(f"chroma peaks at {top}, expected {sorted(p % 12 for p in TRIAD)}: {chroma}")
        print(f"{len(frames)} analysis messages in 2 s; last {frames[-1][2]}", flush=True)

        client.expect_done("/continuo/subscribe/analysis", 0)
        client.drain(0.3)  # any already in flight
        late = collect(client, 1.0)
        if late:
            jf.fail(f"{len(late)} analysis messages after unsubscribing: {late[:2]}")
        print("unsubscribed: no more analysis messages", flush=True)
        final, _ = continuo.stop_checked()
        if final["underruns"] != 0:
            jf.fail(f"{final['underruns']} underruns: {final}")


if __name__ == "__main__":
    jf.run_test(main)
