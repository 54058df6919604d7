"""The bundled default model (models/default/, issue 6): what a fresh checkout plays with no
--model and nothing downloaded. With the shipped configs/default.toml, render loads that
package (the log names it and its licence), makes sound that is neither silence nor
clipping, and text prompts steer it, reproducibly. (How closely it follows notes and
prompts is measured by tools/eval/evaluate.py, docs/models.md, not asserted here.)"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "models", "default")
PACKAGE_LIMIT_BYTES = 64 * 1024 * 1024  # issue 6: the committed package stays under 64 MB
SILENCE_DBFS = -50.0


def package_bytes():
    return sum(os.path.getsize(os.path.join(PACKAGE, name)) for name in os.listdir(PACKAGE))


def render(out, *extra):
    # A hang guard, not a speed check: the 500-frame prefill alone took 45 s of ASan's build on
    # a host lending this VM ~70 % of its CPU (2026-11-23), past run_cli's default 60 s.
    result = jf.run_cli(["render", "--seconds", "2", "--seed", "5", "--out", out, *extra], timeout=240.0)
    if result.returncode != 0:
        jf.fail(f"render {extra} exited with {result.returncode}:\n{result.stderr}")
    return result


def level_dbfs(samples):
    mean_square = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(max(mean_square, 1e-20))


def check_plain_render(tmp):
    out = os.path.join(tmp, "default.wav")
    result = render(out)
    if f"from {PACKAGE}" not in result.stderr or "model: licence CC-BY-4.0" not in result.stderr:
        jf.fail(f"render without --model did not load {PACKAGE} and name its licence:\n{result.stderr}")
    rate, channels, samples = jf.read_wav(out)
    level, peak = level_dbfs(samples), max(abs(s) for s in samples)
    print(f"default model: {rate} Hz, {channels} ch, {len(samples) // channels} frames, "
          f"{level:.1f} dBFS, peak {peak:.3f}")
    if (rate, channels) != (48000, 2) or len(samples) != 2 * 96000:
        jf.fail("want 2 s of 48 kHz stereo")
    if level < SILENCE_DBFS:
        jf.fail(f"the default model is silent ({level:.1f} dBFS)")
    if peak >= 1.0:
        jf.fail(f"the default model clips (peak {peak})")


def main():
    if not os.path.isfile(os.path.join(PACKAGE, "model.toml")):
        jf.fail(f"{PACKAGE}/model.toml is missing: the bundled default model is part of the tree")
    size = package_bytes()
    print(f"{PACKAGE}: {size / 1e6:.1f} MB")
    if size > PACKAGE_LIMIT_BYTES:
        jf.fail(f"the package is {size} bytes, over the {PACKAGE_LIMIT_BYTES}-byte limit")
    tmp = jf.tmpdir("default_model")
    check_plain_render(tmp)
    # A short silence prefill: the prompt checks do not depend on it, and five renders with
    # the default 500 frames took longer than the test's 300 s on a slow machine under ASan.
    jf.check_prompt_renders(tmp, "default", "heavy rock with distorted guitars", "--set", "model.prefill_frames=50")


if __name__ == "__main__":
    jf.run_test(main)
