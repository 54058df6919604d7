"""continuo's command line refuses bad input clearly: config errors name file, line and
key with exit 2; bad render arguments, a missing JACK server and unknown models give a
message and a non-zero exit; --help of every command exits 0."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

failures = []


def case(name, result, ok, why):
    print(f"--- {name}\n{result}", flush=True)
    if not ok:
        failures.append(f"{name}: {why}\n{result}")
        print(f"    FAILED: {why}", flush=True)


def has_line(text, *parts):
    """Some single line of text contains every part."""
    return any(all(p in line for p in parts) for line in text.splitlines())


def main():
    tmp = jf.tmpdir("cli")
    out = os.path.join(tmp, "out.wav")

    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    render = ["render", "--seconds", "1", "--model", "double:counter", "--out", out]

    bad_value = write("bad_value.toml", "[engine]\nlookahead_ms = -5\n")
    r = jf.run_cli(render + ["--config", bad_value])
    case("render: out-of-range config value", r,
         r.returncode == 2 and has_line(r.stderr, bad_value + ":2:", "engine.lookahead_ms"),
         f"want exit 2 and one line naming '{bad_value}:2:' and engine.lookahead_ms")

    # Config errors come before any attempt to reach JACK.
    r = jf.run_cli(["run", "--config", bad_value, "--server", f"ctnone{os.getpid()}"], timeout=15)
    case("run: out-of-range config value", r,
         r.returncode == 2 and has_line(r.stderr, bad_value + ":2:", "engine.lookahead_ms"),
         f"want exit 2 and one line naming '{bad_value}:2:' and engine.lookahead_ms")

    unknown_key = write("unknown_key.toml", "[engine]\nno_such_key = 1\n")
    r = jf.run_cli(render + ["--config", unknown_key])
    case("unknown config key", r,
         r.returncode == 2 and has_line(r.stderr, unknown_key + ":2:", "engine.no_such_key"),
         f"want exit 2 and one line naming '{unknown_key}:2:' and engine.no_such_key")

    syntax = write("syntax.toml", "[engine]\nlookahead_ms = = 5\n")
    r = jf.run_cli(render + ["--config", syntax])
    case("TOML syntax error", r,
         r.returncode == 2 and re.search(re.escape(syntax) + r":2\b", r.stderr) is not None,
         f"want exit 2 and a message naming '{syntax}:2'")

    missing = os.path.join(tmp, "no-such-config.toml")
    r = jf.run_cli(render + ["--config", missing])
    case("missing config file", r, r.returncode not in (0, None) and missing in r.stderr,
         f"want a non-zero exit and a message naming {missing}")

    r = jf.run_cli(["render", "--seconds", "-1", "--model", "double:counter", "--out", out])
    case("render --seconds -1", r, r.returncode not in (0, None) and "seconds" in r.stderr,
         "want a non-zero exit and a message mentioning seconds")

    unwritable = "/nonexistent-dir/x.wav"
    r = jf.run_cli(["render", "--seconds", "1", "--model", "double:counter", "--out", unwritable])
    case("render to an unwritable path", r, r.returncode not in (0, None) and unwritable in r.stderr,
         f"want a non-zero exit and a message naming {unwritable}")

    server = f"ctabsent{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}
    r = jf.run_cli(["run", "--model", "double:counter", "--server", server], timeout=10, env=env)
    case("run without a JACK server", r,
         r.returncode not in (0, None) and "jackd" in r.stderr,
         "want a non-zero exit within 10 s and a message telling how to start jackd")

    for command in ([], ["run"], ["render"]):
        r = jf.run_cli(command + ["--help"], timeout=15)
        text = r.stdout + r.stderr
        case(f"continuo {' '.join(command + ['--help'])}", r,
             r.returncode == 0 and "usage" in text.lower(),
             "want exit 0 and a usage text")

    r = jf.run_cli(["render", "--seconds", "1", "--model", "nosuchkind:thing", "--out", out])
    case("unknown model spec", r, r.returncode not in (0, None) and "nosuchkind" in r.stderr,
         "want a non-zero exit and a message naming the model")

    if failures:
        jf.fail(f"{len(failures)} case(s) failed:\n\n" + "\n\n".join(failures))


if __name__ == "__main__":
    jf.run_test(main)
