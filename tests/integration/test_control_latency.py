"""Control latency against a running continuo (double:counter) on a private jackd: a few
/continuo/temperature changes over OSC are each measured from arrival to the first sample
of the first frame carrying them, and reported in /continuo/status.reply and in the
status JSON. The numbers are only checked to be measured and sane; how low they are is a
benchmark's business. /continuo/reset is checked to reach the generator and keep the
engine playing without an underrun, and, with a 1.5 s lookahead, to be heard well before
the lookahead has played out: the old continuation is dropped, not played to its end."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

LOOKAHEAD_MS = 300  # what osc.start sets
CHANGES = 8
SANE_MS = 5000  # lookahead + a frame, with room for a loaded CI machine


def measured(client):
    for i in range(CHANGES):
        client.expect_done("/continuo/temperature", 0.5 + 0.1 * i)
        time.sleep(0.05)  # spread over several frames
    last = {}

    def all_measured():
        last["status"] = client.status()
        return last["status"]["control_samples"] >= CHANGES

    try:
        jf.wait_until(all_measured, 10.0, interval=0.05, what=f"{CHANGES} control latency samples")
    except TimeoutError as error:
        jf.fail(f"{error}; last status {last.get('status')}")
    status = last["status"]
    p50, p95 = status["control_ms_p50"], status["control_ms_p95"]
    print(f"control latency over {status['control_samples']} changes: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"(lookahead {LOOKAHEAD_MS} ms)", flush=True)
    if not 0 < p50 <= p95 < SANE_MS:
        jf.fail(f"control latency p50 {p50} / p95 {p95} ms is not in (0, {SANE_MS}): {status}")
    return status


def reset(client, continuo):
    client.expect_done("/continuo/reset")
    jf.wait_until(lambda: "generator: reset" in continuo.stderr(), 5, what="the generator's reset line")
    client.expect_done("/continuo/prefill/silence")
    jf.wait_until(lambda: continuo.stderr().count("generator: reset") >= 2, 5, what="a second reset")
    frames = client.status()["frames_generated"]
    time.sleep(0.5)
    if client.status()["frames_generated"] <= frames:
        jf.fail("the generator stopped after a reset")
    print("reset and prefill/silence: scheduled, applied at a frame boundary, playing on", flush=True)


def prompt_reset(server):
    """A reset is heard after the fade and half a lookahead of generation, not the lookahead."""
    lookahead_ms = 1500
    port = osc.free_udp_port()
    continuo = jf.Continuo(server, ["--model", "double:counter", "--lookahead-ms", str(lookahead_ms),
                                    "--set", f"osc.port={port}"], client="continuo_reset").start().wait_osc()
    client = osc.Client(port)
    jf.wait_until(lambda: client.status()["ring_fill_ms"] >= lookahead_ms - 100, 10, what="a full lookahead")
    for n in range(3):
        sent = time.monotonic()
        client.expect_done("/continuo/reset")
        # resets_heard counts a reset once the audio thread has read the fresh continuation's
        # first sample, so the wall clock here bounds the real delay from above.
        jf.wait_until(lambda: client.status()["resets_heard"] > n, 5, interval=0.005, what=f"reset {n + 1} heard")
        wall_ms = 1000 * (time.monotonic() - sent)
        if wall_ms >= lookahead_ms / 2:
            jf.fail(f"reset {n + 1} heard after {wall_ms:.0f} ms, lookahead {lookahead_ms} ms: it waited for the "
                    f"lookahead instead of dropping it")
        jf.wait_until(lambda: client.status()["ring_fill_ms"] >= lookahead_ms - 100, 10, what="the lookahead refilled")
    status = client.status()
    print(f"reset heard after p50 {status['reset_ms_p50']:.1f} ms, p95 {status['reset_ms_p95']:.1f} ms "
          f"(wall clock of the last < {wall_ms:.0f} ms), lookahead {lookahead_ms} ms", flush=True)
    if not 0 < status["reset_ms_p95"] < lookahead_ms / 2 or status["resets_heard"] != 3:
        jf.fail(f"reset latency in status: {status}")
    if status["underruns"] != 0:
        jf.fail(f"a reset counted as an underrun: {status}")
    continuo.stop_checked()


def main():
    with jf.JackServer("latency") as server:
        server.start()
        continuo, client = osc.start(server)  # lookahead 300 ms
        measured(client)
        reset(client, continuo)
        json_status = continuo.status_now()
        for key in ("control_ms_p50", "control_ms_p95", "control_samples"):
            if key not in json_status:
                jf.fail(f"status JSON lacks {key}: {json_status}")
        if not 0 < json_status["control_ms_p50"] < SANE_MS:
            jf.fail(f"status JSON control_ms_p50 {json_status['control_ms_p50']}")
        final, _ = continuo.stop_checked()
        if final["underruns"] != 0:
            jf.fail(f"{final['underruns']} underruns: {final}")
        print(f"final status {final}", flush=True)
        prompt_reset(server)


if __name__ == "__main__":
    jf.run_test(main)
