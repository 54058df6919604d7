"""Control latency against a running continuo (double:counter) on a private jackd: a few
/continuo/temperature changes over OSC are each measured from arrival to the first sample
of the first frame carrying them, and reported in /continuo/status.reply and in the
status JSON. The numbers are only checked to be measured and sane; how low they are is a
benchmark's business. /continuo/reset is checked to reach the generator and keep the
engine playing without an underrun."""

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


if __name__ == "__main__":
    jf.run_test(main)
