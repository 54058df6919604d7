"""JACK server restarts (issue 7, fault injection): jackd is killed (SIGKILL, every
fourth time SIGTERM) and started again under the same name, CYCLES times, while continuo
plays the counter double with auto-connect. Each time this measures how long after the
new server is ready continuo's outputs are connected to jack.connect_outputs again (the
target: at most 2 s), and samples continuo's open file descriptors and resident memory.

  python3 bench/jack_restart.py [--cycles 20] [--period 256]

tests/integration/test_jack_restarts.py runs the same cycles and checks what they leave
behind (connections, audio, fds, memory); the times are only reported, here."""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import jackfixture as jf  # noqa: E402

# jack.connect_outputs' default, patched by --auto-connect.
PATCH = [("continuo:out_l", "system:playback_1"), ("continuo:out_r", "system:playback_2")]
RECONNECT_TIMEOUT_S = 30.0  # generous: a loaded machine is slow, and timings are not asserted


def resident_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def kill_signal(cycle):
    """SIGTERM (jackd shuts down in order, telling its clients) every fourth cycle, else SIGKILL."""
    return signal.SIGTERM if cycle % 4 == 3 else signal.SIGKILL


def restart(server, continuo, cycle):
    """Stops jackd with kill_signal(cycle), starts it again; returns seconds from the new
    server being ready to continuo's connections being back."""
    sig = kill_signal(cycle)
    server.proc.send_signal(sig)
    server.proc.wait(timeout=30)
    ready = server.start(timeout=30.0)
    try:
        jf.wait_until(lambda: server.connected(PATCH), RECONNECT_TIMEOUT_S, interval=0.02,
                      what=f"continuo's connections after restart {cycle + 1} ({signal.Signals(sig).name})")
    except TimeoutError as error:
        jf.fail(f"{error}: connections now {server.connections()}, continuo alive: {continuo.alive()}\n"
                f"continuo stderr:\n{continuo.stderr()[-4000:]}")
    return time.monotonic() - ready


def restart_cycles(server, continuo, cycles, after_each=None):
    """Runs the cycles; after_each(cycle) runs once the connections are back. Returns one
    dict per cycle: signal, reconnect seconds, fds and RSS after after_each."""
    results = []
    for cycle in range(cycles):
        took = restart(server, continuo, cycle)
        if after_each is not None:
            after_each(cycle)
        pid = continuo.proc.pid
        results.append({"cycle": cycle + 1, "signal": signal.Signals(kill_signal(cycle)).name, "reconnect_s": took,
                        "fds": open_fds(pid), "rss_kb": resident_kb(pid)})
        print(f"restart {cycle + 1:2d} ({results[-1]['signal']}): connections back after {took:.3f} s, "
              f"fds {results[-1]['fds']}, RSS {results[-1]['rss_kb']} kB", flush=True)
    return results


def start_continuo(server):
    return jf.Continuo(server, ["--model", "double:counter", "--auto-connect"]).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--period", type=int, default=256)
    args = p.parse_args()
    with jf.JackServer("restart", period=args.period) as server:
        server.start()
        continuo = start_continuo(server)
        jf.wait_until(lambda: server.connected(PATCH), RECONNECT_TIMEOUT_S, what="the first connections")
        results = restart_cycles(server, continuo, args.cycles)
        continuo.stop_checked()
    times = sorted(r["reconnect_s"] for r in results)
    print(f"reconnect after {len(times)} restarts: median {times[len(times) // 2]:.3f} s, "
          f"max {times[-1]:.3f} s (target 2 s); {sum(t > 2.0 for t in times)} over 2 s", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
