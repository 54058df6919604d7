"""continuo survives its JACK server dying: after a kill -9 and restart of jackd under
the same name it reconnects, re-patches its connections within 2 s, and plays the
counter sequence again. A saved connection to a client that did not come back only
warns; a server restarted at another sample rate is followed (the generator resamples)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

PATCH = [("continuo:out_l", "system:playback_1"), ("continuo:out_r", "system:playback_2")]
RECONNECT_DEADLINE_S = 2.0
RECORD_SECONDS = 2
MAX_LEAD_SECONDS = 1.0


def main():
    with jf.JackServer("reconnect", period=256) as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", "double:counter", "--set", "jack.auto_connect=false"]).start()
        # Patched by hand (auto-connect is off), as a user would: continuo must remember it.
        for source, destination in PATCH:
            server.connect(source, destination)
        # A client that will not come back after the restart: its connection can't be restored.
        jf.spawn(["jack_metro", "-b", "120", "-n", "metro"], env=server.env)
        server.wait_ports(["metro:120_bpm"])
        server.connect("metro:120_bpm", "continuo:in_l")
        jf.wait_until(lambda: server.connected(PATCH + [("metro:120_bpm", "continuo:in_l")]), 5.0,
                      what="the initial connections")
        print(f"connected: {server.connections()}")

        server.kill9()
        print("jackd killed with SIGKILL; restarting it under the same name", flush=True)
        ready = server.start()
        try:
            jf.wait_until(lambda: server.connected(PATCH), RECONNECT_DEADLINE_S, interval=0.02,
                          what="continuo's connections on the restarted server")
        except TimeoutError as error:
            jf.fail(f"{error}: connections now {server.connections()}, continuo alive: {continuo.alive()}\n"
                    f"continuo stderr:\n{continuo.stderr()}")
        took = time.monotonic() - ready
        print(f"connections back {took:.3f} s after the new server was ready: {server.connections()}")
        if not continuo.alive():
            jf.fail(f"continuo exited with {continuo.proc.returncode}:\n{continuo.stderr()}")

        rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], RECORD_SECONDS)
        info = jf.check_counter(left, right, max_lead_frames=int(MAX_LEAD_SECONDS * rate),
                                label="recording after the reconnect")
        print(f"recording after the reconnect: {info}")

        if "metro:120_bpm" not in continuo.stderr() or "warn" not in continuo.stderr():
            jf.fail(f"no warning about the vanished port metro:120_bpm:\n{continuo.stderr()}")

        follow_rate_change(server, continuo)

        status, _ = continuo.stop_checked(signal.SIGTERM)
        print(f"status at exit: {status}", flush=True)
        if status["reconnects"] != 2:
            jf.fail(f"status reconnects = {status['reconnects']}, expected 2")


def follow_rate_change(server, continuo):
    """Restarts the server at 44.1 kHz: continuo rejoins and resamples its 48 kHz model."""
    server.kill9()
    server.rate = 44100
    server.start()
    jf.wait_until(lambda: server.connected(PATCH), RECONNECT_DEADLINE_S * 5, what="connections at 44.1 kHz")
    status = continuo.wait_status(lambda s: s["sample_rate"] == 44100 and s["reconnects"] == 2, 10.0,
                                  "status at 44.1 kHz")
    rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], 1, name="rec44")
    peak = max(max(abs(x) for x in left), max(abs(x) for x in right))
    print(f"after the rate change: rate {rate}, status {status}, recording peak {peak:.3f}")
    if rate != 44100 or peak < 0.5:
        jf.fail(f"expected resampled counter audio at 44100 Hz, got rate {rate}, peak {peak}")


if __name__ == "__main__":
    jf.run_test(main)
