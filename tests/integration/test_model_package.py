"""continuo plays an MRT2 model package (the tiny fixture converted from the official
code's random weights): `render --model DIR` is deterministic per seed and not silent,
`run --model DIR` plays through JACK without underruns and reports the per-stage times,
and broken packages are refused with a message naming the problem, never a crash."""

import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")
STAGES = ("encoder", "temporal", "depth", "codec")
CUDA_STAGES = ("lm+codec",)  # model.backend auto where CUDA can run: the frame is one graph, one stage


def render(out, seed):
    result = jf.run_cli(["render", "--model", PACKAGE, "--seconds", "2", "--seed", str(seed), "--out", out])
    if result.returncode != 0:
        jf.fail(f"render failed:\n{result}")
    with open(out, "rb") as f:
        return f.read()


def check_render(tmp):
    first = render(os.path.join(tmp, "a.wav"), 1)
    again = render(os.path.join(tmp, "b.wav"), 1)
    other = render(os.path.join(tmp, "c.wav"), 2)
    rate, channels, samples = jf.read_wav(os.path.join(tmp, "a.wav"))
    peak = max(abs(v) for v in samples)
    print(f"render: {rate} Hz, {channels} ch, {len(samples) // channels} frames, peak {peak:.3f}")
    if first != again:
        jf.fail("two renders with the same seed differ")
    if first == other:
        jf.fail("renders with seeds 1 and 2 are identical")
    if not 0.0 < peak <= 1.0:
        jf.fail(f"peak {peak} outside (0, 1]")


def refuse(package_dir, expected):
    result = jf.run_cli(["render", "--model", package_dir, "--seconds", "1",
                         "--out", os.path.join(package_dir, "out.wav")])
    print(result)
    if result.returncode not in (1, 2) or expected not in result.stderr:
        jf.fail(f"expected a refusal naming {expected!r}")


def check_refusals(tmp):
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    refuse(empty, "no model.toml")
    truncated = os.path.join(tmp, "truncated")
    shutil.copytree(PACKAGE, truncated)
    weights = os.path.join(truncated, "depthformer.safetensors")
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 2)
    refuse(truncated, "depthformer.safetensors")


def check_live():
    with jf.JackServer("package", period=256) as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", PACKAGE, "--set", "jack.auto_connect=false"]).start()
        rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], 2)
        peak = max(max(abs(x) for x in left), max(abs(x) for x in right))
        status, _ = continuo.stop_checked(signal.SIGTERM)
        print(f"live: recording peak {peak:.3f}; status {status}")
        if status["underruns"] != 0:
            jf.fail(f"{status['underruns']} underruns with the tiny package")
        if peak == 0.0:
            jf.fail("the recording is silent")
        stages = status.get("stages", {})
        missing = [s for s in STAGES if s not in stages]
        if missing and any(s not in stages for s in CUDA_STAGES):
            jf.fail(f"status lacks stage times for {missing}")


def main():
    tmp = jf.tmpdir("package")
    check_render(tmp)
    check_refusals(tmp)
    check_live()


if __name__ == "__main__":
    jf.run_test(main)
