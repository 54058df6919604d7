"""OSC flood benchmark (issue 5 target): 20,000 control messages per second from loopback
for 10 s at a 64-frame period; reports the messages answered, xruns and underruns.

  python3 bench/osc_flood.py [RATE_PER_S] [SECONDS] [PERIOD]

Needs a built tree (make build). Starts its own private jackd, like the integration tests,
whose fixture and OSC client it reuses."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import jackfixture as jf  # noqa: E402
from test_osc import message, start  # noqa: E402


def flood(client, rate, seconds):
    """Sends `rate` messages a second in 1 ms slices; returns how many were sent."""
    sent = 0
    begin = time.monotonic()
    while (elapsed := time.monotonic() - begin) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            client.send(message("/continuo/temperature", 0.5 + (sent % 100) / 100.0))
            sent += 1
        time.sleep(0.001)
    return sent


def count_replies(client, stop, counts):
    while not stop.is_set():
        reply = client.receive(0.2)
        if reply is not None:
            counts[reply[0]] = counts.get(reply[0], 0) + 1


def main():
    rate = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    period = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    with jf.JackServer("oscflood", period=period) as server:
        server.start()
        continuo, client = start(server)
        before = continuo.status_now()
        counts, stop = {}, threading.Event()
        listener = threading.Thread(target=count_replies, args=(client, stop, counts))
        listener.start()
        sent = flood(client, rate, seconds)
        time.sleep(1.0)
        stop.set()
        listener.join()
        limited = client.status()["osc_rate_limited"]
        status, _ = continuo.stop_checked(signal.SIGTERM)
        print(f"sent {sent} messages in {seconds:.0f} s ({sent / seconds:.0f}/s), period {period} frames")
        print(f"replies heard: {counts}; dropped over osc.rate_limit: {limited}")
        print(f"engine: xruns {status['xruns'] - before['xruns']} during the flood "
              f"({status['xruns']} in all), underruns {status['underruns']}, "
              f"control latency p50 {status.get('control_ms_p50')} ms p95 {status.get('control_ms_p95')} ms")


if __name__ == "__main__":
    jf.run_test(main)
