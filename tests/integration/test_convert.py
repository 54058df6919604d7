"""tools/convert_mrt2.py: the tiny fixture checkpoint converts to exactly the committed
package (tests/fixtures/mrt2/tiny/package), and with --codec-output-mode MODE to the same plus
that key (codec_MODE = 1), the real models' name lists map completely, and a checkpoint missing a tensor is
refused with its name. The way back (mrt2_codec.official_codec, which train_codec.py
--init-package uses): the committed package's codec under the official names is the
checkpoint's, and a package missing a codec tensor is refused naming it. python3 + numpy only.

Regenerate the committed package (after a deliberate converter change) with
  python3 tests/integration/test_convert.py --regenerate
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

REPO = os.environ.get("CONTINUO_SOURCE") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONVERTER = os.path.join(REPO, "tools", "convert_mrt2.py")
FIXTURES = os.path.join(REPO, "tests", "fixtures", "mrt2")
TINY = os.path.join(FIXTURES, "tiny", "tiny.safetensors")
PACKAGE = os.path.join(FIXTURES, "tiny", "package")
# The tiny model's windows are not an official preset; its codec runs at 3200 Hz and emits
# 64 samples per frame ([audio] says 8000 Hz at 125 frames/s: the same ratio inside the
# loader's 8-384 kHz range).
TINY_ARGS = [
    "--name", "mrt2_tiny", "--horizons", "6,4", "--audio", "8000,2,125",
    "--codec-sample-rate", "3200",
    "--source", "tests/fixtures/mrt2/tiny/tiny.safetensors (tools/make_fixtures.py)",
    "--licence", "none: random test weights",
    "--attribution", "Random-weight test model built with the official Magenta RealTime 2 "
                     "code (magenta-rt 2.0.3, Apache-2.0) by Google DeepMind",
]

failures = []
PYTHON = None  # an interpreter with numpy: this one, or Debian's when pyenv shadows it


def find_python():
    for candidate in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(candidate) and subprocess.run(
                [candidate, "-c", "import numpy"], capture_output=True).returncode == 0:
            return candidate
    return None


def converter(*args):
    r = subprocess.run([PYTHON, CONVERTER, *args], capture_output=True, text=True,
                       timeout=300)
    print(f"$ convert_mrt2.py {' '.join(args)}\n  rc={r.returncode}\n{r.stdout}{r.stderr}",
          flush=True)
    return r


def case(name, ok, why):
    print(f"--- {name}: {'ok' if ok else 'FAILED: ' + why}", flush=True)
    if not ok:
        failures.append(f"{name}: {why}")


def files(directory):
    return {f: open(os.path.join(directory, f), "rb").read() for f in sorted(os.listdir(directory))}


def drop_tensor(src, dst, victim):
    """Copies a safetensors file without one tensor (stdlib only)."""
    with open(src, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out, parts, offset = {}, [], 0
    for name in sorted(header):
        if name == victim:
            continue
        b, e = header[name]["data_offsets"]
        out[name] = dict(header[name], data_offsets=[offset, offset + e - b])
        parts.append(data[b:e])
        offset += e - b
    text = json.dumps(out).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(parts))


# Runs under PYTHON (it needs numpy): prints what differs between the tiny checkpoint's codec and
# the committed package's codec mapped back to official names, then the error for a package
# missing one tensor.
WAY_BACK = r"""
import sys
sys.path.insert(0, sys.argv[1])
import mrt2_codec
official = {n: a for n, a in mrt2_codec.read_safetensors(sys.argv[2]).items() if n.startswith('params/soundstream/')}
canonical = mrt2_codec.read_safetensors(sys.argv[3])
back = mrt2_codec.official_codec(canonical, {n: a.shape for n, a in official.items()})
print('differ:', sorted(n for n in official if n not in back or not (back[n] == official[n]).all()))
del canonical['codec.block0.up.kernel']
try:
    mrt2_codec.official_codec(canonical, {n: a.shape for n, a in official.items()})
except ValueError as e:
    print('refused:', e)
"""


def check_way_back():
    r = subprocess.run([PYTHON, "-c", WAY_BACK, os.path.join(REPO, "tools"), TINY,
                        os.path.join(PACKAGE, "spectrostream.safetensors")],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout + r.stderr, flush=True)
    case("the package's codec maps back to the checkpoint's official tensors",
         r.returncode == 0 and "differ: []" in r.stdout, "want every official codec tensor back, equal")
    case("a package missing a codec tensor is refused, naming it",
         "refused:" in r.stdout and "codec.block0.up.kernel" in r.stdout and "missing" in r.stdout,
         "want ValueError naming codec.block0.up.kernel")


def main():
    global PYTHON
    PYTHON = find_python()
    if PYTHON is None:
        print(f"SKIP: numpy is missing for {sys.executable} and /usr/bin/python3 (Debian: apt "
              "install python3-numpy, or tools/install-deps.sh)")
        return 0
    print(f"converter runs under {PYTHON}", flush=True)
    if "--regenerate" in sys.argv:
        shutil.rmtree(PACKAGE, ignore_errors=True)
        return converter(TINY, PACKAGE, *TINY_ARGS).returncode

    tmp = tempfile.mkdtemp(prefix="continuo-convert-")
    try:
        out = os.path.join(tmp, "package")
        r = converter(TINY, out, *TINY_ARGS)
        same = r.returncode == 0 and files(out) == files(PACKAGE)
        case("tiny checkpoint converts byte-identically to the committed package", same,
             f"rc {r.returncode}; files differ from {PACKAGE} (regenerate with --regenerate "
             "if the change is deliberate)")

        for mode in ("phase_accumulate", "peak_phase"):
            out = os.path.join(tmp, mode)
            r = converter(TINY, out, *TINY_ARGS, "--codec-output-mode", mode)
            got = files(out) if r.returncode == 0 else {}
            toml = got.pop("model.toml", b"").replace(f"codec_{mode} = 1\n".encode(), b"", 1)
            want = files(PACKAGE)
            case(f"--codec-output-mode {mode} adds codec_{mode} = 1, nothing else",
                 toml == want.pop("model.toml") and got == want,
                 f"rc {r.returncode}; want the committed package plus that one [architecture] line")

        for names in ("names_mrt2_small.txt", "names_mrt2_base.txt"):
            r = converter("--check-names", os.path.join(FIXTURES, names))
            case(f"--check-names {names}", r.returncode == 0 and "mapped" in r.stdout,
                 f"rc {r.returncode}")

        victim = ("params/depthformer/decoder/temporal_body/transformer/x_layers_1/"
                  "cross_attention/attention/value_projection/kernel")
        bad = os.path.join(tmp, "bad.safetensors")
        drop_tensor(TINY, bad, victim)
        r = converter(bad, os.path.join(tmp, "bad"), *TINY_ARGS)
        case("a checkpoint missing a tensor is refused, naming it",
             r.returncode != 0 and f"missing tensor {victim}" in r.stderr,
             f"want a non-zero exit and 'missing tensor {victim}' on stderr")

        r = converter(bad, os.path.join(tmp, "bad2"))
        case("an unknown layout without --horizons is refused",
             r.returncode != 0 and "--horizons" in r.stderr, "want a hint at --horizons")

        check_way_back()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
