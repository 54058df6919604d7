"""continuo plays the counter double through JACK bit-exactly, without underruns, at
periods 256 and 64; its output port's JACK latency includes the lookahead."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

LOOKAHEAD_MS = 200
RECORD_SECONDS = 10
# Before the recording becomes the counter sequence: frames before the recorder's
# connections take effect and before continuo starts playing, then the fade-in.
MAX_LEAD_SECONDS = 2.0


def play(period):
    print(f"--- period {period}", flush=True)
    with jf.JackServer(f"play{period}", period=period) as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", "double:counter", "--seed", "1",
                                        "--lookahead-ms", str(LOOKAHEAD_MS)]).start()
        latency, latency_text = server.port_latency("continuo:out_l")
        rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], RECORD_SECONDS)
        status, _ = continuo.stop_checked()

        print(f"period {period}: status {status}")
        print(f"period {period}: server xruns (not asserted): {status['xruns']}")
        print(f"period {period}: JACK latency of continuo:out_l = {latency} frames "
              f"(lookahead {LOOKAHEAD_MS} ms = {LOOKAHEAD_MS * rate // 1000} frames)\n{latency_text.rstrip()}")
        if rate != jf.COUNTER_RATE:
            jf.fail(f"recorder ran at {rate} Hz, expected {jf.COUNTER_RATE}")
        if status["sample_rate"] != rate or status["buffer_frames"] != period:
            jf.fail(f"status reports {status['sample_rate']} Hz / {status['buffer_frames']} frames, "
                    f"server runs {rate} Hz / {period} frames")
        if status["underruns"] != 0:
            jf.fail(f"period {period}: {status['underruns']} underruns, expected 0")
        info = jf.check_counter(left, right, max_lead_frames=int(MAX_LEAD_SECONDS * rate),
                                label=f"period {period} recording")
        print(f"period {period}: recording {info}", flush=True)
        if info["consecutive_frames"] < (RECORD_SECONDS - MAX_LEAD_SECONDS) * rate:
            jf.fail(f"only {info['consecutive_frames']} consecutive frames")
        lookahead_frames = LOOKAHEAD_MS * rate // 1000
        if latency < lookahead_frames:
            jf.fail(f"JACK latency of continuo:out_l is {latency} frames, less than the lookahead "
                    f"{lookahead_frames} frames")


def main():
    for period in (256, 64):
        play(period)


if __name__ == "__main__":
    jf.run_test(main)
