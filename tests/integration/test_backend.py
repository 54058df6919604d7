"""--backend / model.backend on a machine where CUDA cannot run (no device, or a build without
CUDA): `--backend cpu` and the default auto render the tiny package identically, auto logs in
one line that it chose the CPU and why, and `--backend cuda` is refused with that reason and
exit 2 by render and by run (before JACK). Where CUDA can run, auto must say so and the CUDA
cases are left to tests/cuda/test_render_backend.py (label cuda)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")


def render(out, *extra):
    return jf.run_cli(["render", "--model", PACKAGE, "--seconds", "1", "--seed", "3", "--out", out, *extra])


def backend_line(result):
    lines = [line for line in result.stderr.splitlines() if "model: backend " in line]
    if len(lines) != 1:
        jf.fail(f"want exactly one 'model: backend' line:\n{result}")
    return lines[0]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    tmp = jf.tmpdir("backend")
    cpu = render(os.path.join(tmp, "cpu.wav"), "--backend", "cpu")
    print(cpu)
    if cpu.returncode != 0 or 'backend cpu (model.backend = "cpu")' not in backend_line(cpu):
        jf.fail("--backend cpu did not render on the CPU")

    auto = render(os.path.join(tmp, "auto.wav"))  # configs/default.toml: backend = "auto"
    print(auto)
    line = backend_line(auto)
    if auto.returncode != 0:
        jf.fail("the default (auto) render failed")
    if "backend cuda on " in line:
        print("CUDA can run here: its renders are tests/cuda/test_render_backend.py's")
        return
    found = re.search(r'backend cpu \(model\.backend = "auto": (.+)\)$', line)
    if found is None:
        jf.fail(f"auto's line does not say cpu and why: {line!r}")
    why = found.group(1)
    if read(os.path.join(tmp, "auto.wav")) != read(os.path.join(tmp, "cpu.wav")):
        jf.fail("auto chose the CPU but its render differs from --backend cpu's")
    print(f"auto: cpu, because {why}; the same bytes as --backend cpu")

    refused_out = os.path.join(tmp, "cuda.wav")
    refused = render(refused_out, "--backend", "cuda")
    print(refused)
    if refused.returncode != 2 or f'model.backend = "cuda", but {why}' not in refused.stderr:
        jf.fail(f"--backend cuda: want exit 2 and the reason {why!r}")
    if os.path.exists(refused_out):
        jf.fail("a refused render left a file")

    # run loads the model before it reaches JACK: the same refusal, no server needed.
    run = jf.run_cli(["run", "--model", PACKAGE, "--backend", "cuda", "--server", f"ctnone{os.getpid()}"],
                     timeout=30)
    print(run)
    if run.returncode != 2 or f'model.backend = "cuda", but {why}' not in run.stderr:
        jf.fail(f"run --backend cuda: want exit 2 and the reason {why!r}")

    bad = render(os.path.join(tmp, "bad.wav"), "--backend", "gpu")
    print(bad)
    if bad.returncode != 2 or "model.backend: must be one of" not in bad.stderr:
        jf.fail("--backend gpu: want exit 2 naming model.backend and its choices")


if __name__ == "__main__":
    jf.run_test(main)
