"""Soak run (issue 7): continuo plays for SECONDS at a 64-frame period on a private dummy
jackd while this samples its resident memory, open file descriptors, xruns and underruns.
Passes when RSS grows by at most 1 MB and the fd count not at all after the warm-up, and
no underrun happened; xruns are reported (a dummy server without real-time scheduling on a
shared machine has a few whatever continuo does: see docs/performance.md, OSC flood).

  python3 bench/soak.py [--seconds 3600] [--model double:counter] [--period 64]

`make soak` runs an hour; tests/integration/test_soak.py two minutes."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import jackfixture as jf  # noqa: E402

WARM_UP_S = 20.0  # allocations of start-up (JACK, the model, lazily sized buffers) settle
RSS_GROWTH_LIMIT_KB = 1024


def resident_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def sample(continuo, began):
    status = continuo.status_now()
    pid = continuo.proc.pid
    return {"t": time.monotonic() - began, "rss_kb": resident_kb(pid), "fds": open_fds(pid),
            "xruns": status["xruns"], "underruns": status["underruns"], "frames": status["frames_generated"]}


def soak(seconds, model, period, interval=None):
    """Runs the soak; returns (samples, failures)."""
    interval = interval or max(5.0, seconds / 60)
    with jf.JackServer("soak", period=period) as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", model]).start()
        began = time.monotonic()
        time.sleep(WARM_UP_S)
        samples = [sample(continuo, began)]
        while samples[-1]["t"] < WARM_UP_S + seconds:
            time.sleep(interval)
            samples.append(sample(continuo, began))
            s = samples[-1]
            print(f"{s['t']:7.0f} s  rss {s['rss_kb']} kB  fds {s['fds']}  frames {s['frames']}  "
                  f"xruns {s['xruns']}  underruns {s['underruns']}", flush=True)
        continuo.stop_checked()
    first, last = samples[0], samples[-1]
    failures = []
    if last["rss_kb"] - first["rss_kb"] > RSS_GROWTH_LIMIT_KB:
        failures.append(f"RSS grew {last['rss_kb'] - first['rss_kb']} kB (limit {RSS_GROWTH_LIMIT_KB})")
    if last["fds"] != first["fds"]:
        failures.append(f"open fds went from {first['fds']} to {last['fds']}")
    if last["underruns"] != 0:
        failures.append(f"{last['underruns']} underruns")
    if last["frames"] <= first["frames"]:
        failures.append("the generator stopped")
    print(f"soak: {seconds:.0f} s of {model} at period {period}: RSS {first['rss_kb']} -> {last['rss_kb']} kB, "
          f"fds {first['fds']} -> {last['fds']}, underruns {last['underruns']}, xruns {last['xruns']}", flush=True)
    return samples, failures


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3600.0)
    p.add_argument("--model", default="double:counter")
    p.add_argument("--period", type=int, default=64)
    args = p.parse_args()
    _, failures = soak(args.seconds, args.model, args.period)
    for failure in failures:
        jf.fail(failure)


if __name__ == "__main__":
    jf.run_test(main)
