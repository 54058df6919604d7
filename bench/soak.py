"""Soak run (issue 7): continuo plays for SECONDS at a 64-frame period on a private dummy
jackd while this samples its resident memory, open file descriptors, xruns and underruns.
Passes when RSS grows by at most 1 MB and the fd count not at all after the warm-up, and
no underrun happened; xruns are reported (a dummy server without real-time scheduling on a
shared machine has a few whatever continuo does: see docs/performance.md, OSC flood).

  python3 bench/soak.py [--seconds 3600] [--model SPEC ...] [--period 64] [--realtime]

Without --model it soaks the counter test double and then, when it is there, the bundled
default model (models/default/), each for SECONDS. `make soak` runs an hour each;
tests/integration/test_soak.py two minutes of the double."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import jackfixture as jf  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL_PACKAGE = os.path.join(REPO, "models", "default")
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


def soak(seconds, model, period, interval=None, realtime=False):
    """Runs the soak; returns (samples, failures)."""
    interval = interval or max(5.0, seconds / 60)
    with jf.JackServer("soak", period=period, realtime=realtime) as server:
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


def default_models():
    """The test double, and the bundled default model once it is committed (issue 6)."""
    models = ["double:counter"]
    if os.path.isdir(DEFAULT_MODEL_PACKAGE):
        models.append(DEFAULT_MODEL_PACKAGE)
    return models


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3600.0)
    p.add_argument("--model", action="append", help="a model spec, repeatable (default: double:counter, then models/default/ when present)")
    p.add_argument("--period", type=int, default=64)
    p.add_argument("--realtime", action="store_true",
                   help="jackd with real-time scheduling (-R -P 70), as an installation runs it")
    args = p.parse_args()
    failures = []
    for model in args.model or default_models():
        failures += [f"{model}: {failure}" for failure in soak(args.seconds, model, args.period, realtime=args.realtime)[1]]
    if failures:
        jf.fail("; ".join(failures))


if __name__ == "__main__":
    jf.run_test(main)
