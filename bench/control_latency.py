"""Control latency benchmark (issue 5 target: p95 <= 120 ms with a CPU model at a 256-frame
period; <= 60 ms on a GPU). Starts a private jackd and continuo with MODEL at LOOKAHEAD_MS,
changes the temperature over OSC every 250 ms for SECONDS, and reports the engine's own
measure: OSC arrival -> the frame boundary that applies it -> the first sample of that frame
read by the JACK process callback (docs/osc.md, "Control latency").

  python3 bench/control_latency.py MODEL [LOOKAHEAD_MS] [SECONDS] [PERIOD]

Needs a built tree (make build)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import jackfixture as jf  # noqa: E402
from test_osc import Client, free_udp_port  # noqa: E402


def main():
    model = sys.argv[1]
    lookahead = float(sys.argv[2]) if len(sys.argv) > 2 else 80.0
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    period = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    with jf.JackServer("ctllatency", period=period) as server:
        server.start()
        port = free_udp_port()
        continuo = jf.Continuo(server, ["--model", model, "--lookahead-ms", str(lookahead),
                                        "--set", f"osc.port={port}"]).start()
        jf.wait_until(lambda: "osc: listening" in continuo.stderr(), 30, what="the OSC server")
        client = Client(port)
        time.sleep(2.0)  # past start-up: the ring full, the model warm
        changes = int(seconds / 0.25)
        for i in range(changes):
            client.expect_done("/continuo/temperature", 0.9 + 0.1 * (i % 2))
            time.sleep(0.25)
        time.sleep(0.5)
        status, _ = continuo.stop_checked(signal.SIGTERM)
        print(f"model {model}, lookahead {lookahead:.0f} ms, period {period} frames, {changes} changes")
        print(f"control latency p50 {status['control_ms_p50']:.1f} ms p95 {status['control_ms_p95']:.1f} ms "
              f"({status['control_samples']} measured); generation {status['gen_ms_p50']:.2f} / "
              f"{status['gen_ms_p99']:.2f} ms per frame p50 / p99; underruns {status['underruns']}, "
              f"xruns {status['xruns']}")


if __name__ == "__main__":
    jf.run_test(main)
