"""`continuo render --backend cuda` of the tiny package against `--backend cpu` (label cuda;
exit 77 where CUDA cannot run, unless CONTINUO_REQUIRE_CUDA=1). Render cannot teacher-force,
so the two renders are compared as what they are: the same seed, the same Philox draws from
logits equal to fp32 rounding, so the same codes until a draw lands within ~1e-7 of a CDF
boundary (for these 12 draws a frame: very rare), and decoders that agree to fp32 rounding
(test_cuda_spectrostream). Checks: the log names the CUDA backend; the CUDA render is valid
audio (length, finite, peak in (0, 1]); it is deterministic (the same seed twice: the same
bytes; another seed: other audio); and it plays the CPU's audio, each sample within
SAMPLE_TOLERANCE of the CPU's peak, over at least its first SAME_FRAMES frames (a composition
bug shows from frame 0), with an RMS within 2x of the CPU's over the rest."""

import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import jackfixture as jf  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")
SECONDS = 4
FRAME_SAMPLES = 64  # the tiny package's frame
SAME_FRAMES = 25
SAMPLE_TOLERANCE = 1e-4  # of the CPU render's peak: the two decoders' fp32 rounding


def render(out, backend, seed):
    result = jf.run_cli(["render", "--model", PACKAGE, "--seconds", str(SECONDS), "--seed", str(seed),
                         "--backend", backend, "--out", out], timeout=120)
    print(result)
    return result


def rms(samples):
    return math.sqrt(sum(x * x for x in samples) / max(len(samples), 1))


def main():
    tmp = jf.tmpdir("cuda-render")
    cuda_path = os.path.join(tmp, "cuda.wav")
    first = render(cuda_path, "cuda", 1)
    if first.returncode == 2 and 'model.backend = "cuda", but' in first.stderr:
        if os.environ.get("CONTINUO_REQUIRE_CUDA") == "1":
            jf.fail("CONTINUO_REQUIRE_CUDA=1 but CUDA cannot run here")
        print("SKIP: CUDA cannot run here (the reason is above)")
        sys.exit(77)
    if first.returncode != 0 or "model: backend cuda on " not in first.stderr:
        jf.fail("--backend cuda did not render on CUDA")
    rate, channels, cuda = jf.read_wav(cuda_path)
    frames = len(cuda) // channels
    if channels != 2 or frames != SECONDS * rate:
        jf.fail(f"want 2 channels and {SECONDS} s at {rate} Hz; got {channels} channels, {frames} frames")
    peak = max(abs(x) for x in cuda)
    if not all(math.isfinite(x) for x in cuda) or not 0.0 < peak <= 1.0:
        jf.fail(f"not valid audio: peak {peak}, finite {all(math.isfinite(x) for x in cuda)}")

    again = os.path.join(tmp, "cuda-again.wav")
    other = os.path.join(tmp, "cuda-seed2.wav")
    if render(again, "cuda", 1).returncode != 0 or render(other, "cuda", 2).returncode != 0:
        jf.fail("a second CUDA render failed")
    with open(cuda_path, "rb") as a, open(again, "rb") as b, open(other, "rb") as c:
        first_bytes = a.read()
        if first_bytes != b.read():
            jf.fail("two CUDA renders with the same seed differ")
        if first_bytes == c.read():
            jf.fail("CUDA renders with seeds 1 and 2 are identical")

    cpu_path = os.path.join(tmp, "cpu.wav")
    if render(cpu_path, "cpu", 1).returncode != 0:
        jf.fail("the CPU render failed")
    cpu_rate, _, cpu = jf.read_wav(cpu_path)
    if cpu_rate != rate or len(cpu) != len(cuda):
        jf.fail(f"the CPU render is {cpu_rate} Hz, {len(cpu)} samples; the CUDA one {rate} Hz, {len(cuda)}")
    bound = SAMPLE_TOLERANCE * max(abs(x) for x in cpu)
    differ = next((i for i, (a, b) in enumerate(zip(cuda, cpu)) if not abs(a - b) <= bound), None)
    same_frames = frames // FRAME_SAMPLES if differ is None else differ // (channels * FRAME_SAMPLES)
    ratio = rms(cuda) / max(rms(cpu), 1e-12)
    print(f"CUDA vs CPU: the same samples (to rounding) for {same_frames} of {frames // FRAME_SAMPLES} frames; "
          f"RMS {rms(cuda):.4f} vs {rms(cpu):.4f} (ratio {ratio:.3f}); CUDA peak {peak:.3f}")
    if same_frames < SAME_FRAMES:
        jf.fail(f"CUDA and CPU audio part at frame {same_frames} (< {SAME_FRAMES}): the codes differ early")
    if not 0.5 <= ratio <= 2.0:
        jf.fail(f"CUDA's RMS is {ratio:.3f}x the CPU's")


if __name__ == "__main__":
    jf.run_test(main)
