#!/usr/bin/env python3
"""jackd killed and restarted 20 times (issue 7, fault injection; bench/jack_restart.py,
which also times the reconnects): after every restart continuo is connected to
jack.connect_outputs again and plays the counter sequence, and after the 20th it holds
as many file descriptors as after the first and at most RSS_GROWTH_LIMIT_KB more memory."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import jack_restart  # noqa: E402

CYCLES = 20
RECORD_SECONDS = 1
MAX_LEAD_SECONDS = 0.5
# Each client connection maps the server's shared memory (its engine, graph and port
# buffers: several MB, mostly touched) and frees it on close. A leak of what one restart
# maps would grow RSS by that much per cycle, 19 times; 1 MB in all leaves room for the
# allocator's high-water marks (log lines, the saved connections) without hiding that.
RSS_GROWTH_LIMIT_KB = 1024


def main():
    with jf.JackServer("restarts", period=256) as server:
        server.start()
        continuo = jack_restart.start_continuo(server)
        jf.wait_until(lambda: server.connected(jack_restart.PATCH), 30.0, what="the first connections")

        def plays_again(cycle):
            status = continuo.wait_status(lambda s: s["reconnects"] == cycle + 1 and s["ring_fill_ms"] >= 150.0,
                                          60.0, f"reconnect {cycle + 1} counted and the ring refilled")
            rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], RECORD_SECONDS,
                                              name=f"rec{cycle + 1}")
            jf.check_counter(left, right, max_lead_frames=int(MAX_LEAD_SECONDS * rate),
                             label=f"recording after restart {cycle + 1}")
            if status["sample_rate"] != server.rate:
                jf.fail(f"status sample_rate {status['sample_rate']} after restart {cycle + 1}, server runs {server.rate}")

        results = jack_restart.restart_cycles(server, continuo, CYCLES, plays_again)
        status, text = continuo.stop_checked()

    first, last = results[0], results[-1]
    print(f"after restart 1: fds {first['fds']}, RSS {first['rss_kb']} kB; after restart {CYCLES}: "
          f"fds {last['fds']}, RSS {last['rss_kb']} kB; status at exit {status}", flush=True)
    if status["reconnects"] != CYCLES:
        jf.fail(f"status reconnects = {status['reconnects']}, expected {CYCLES}")
    if any(r["fds"] != first["fds"] for r in results):
        jf.fail(f"open fds changed across the restarts: {[r['fds'] for r in results]}")
    if os.environ.get("CONTINUO_SANITIZE"):
        print("RSS not bounded: the sanitizer build keeps freed blocks in quarantine", flush=True)
    elif last["rss_kb"] - first["rss_kb"] > RSS_GROWTH_LIMIT_KB:
        jf.fail(f"RSS grew {last['rss_kb'] - first['rss_kb']} kB over {CYCLES - 1} restarts "
                f"(limit {RSS_GROWTH_LIMIT_KB}): {[r['rss_kb'] for r in results]}")


if __name__ == "__main__":
    jf.run_test(main)
