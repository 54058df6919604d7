"""continuo render writes the counter double to a float WAV bit-exactly at the model's
rate, and resamples it when render.sample_rate asks for another rate."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402


def render(out, *extra):
    result = jf.run_cli(["render", "--seconds", "3", "--model", "double:counter", "--out", out, *extra])
    print(result)
    if result.returncode != 0:
        jf.fail(f"render exited with {result.returncode}")
    return jf.read_wav(out)


def main():
    tmp = jf.tmpdir("render")

    rate, channels, samples = render(os.path.join(tmp, "counter.wav"))
    frames = len(samples) // max(channels, 1)
    print(f"model rate: {rate} Hz, {channels} channels, {frames} frames")
    if (rate, channels, frames) != (48000, 2, 144000):
        jf.fail(f"expected 48000 Hz, 2 channels, 144000 frames; got {rate}, {channels}, {frames}")
    left, right = samples[0::2], samples[1::2]
    for n in range(frames):
        if jf.decode_index(left[n], right[n]) != n:
            jf.fail(f"frame {n} = ({left[n]!r}, {right[n]!r}) decodes to "
                    f"{jf.decode_index(left[n], right[n])}, expected index {n}")
    print("indices 0..143999 exact")

    # The same render is the same file, whenever it runs (no write time in the WAV).
    time.sleep(1.1)
    render(os.path.join(tmp, "again.wav"))
    with open(os.path.join(tmp, "counter.wav"), "rb") as a, open(os.path.join(tmp, "again.wav"), "rb") as b:
        if a.read() != b.read():
            jf.fail("rendering the same thing a second later gave a different file")
    print("a render a second later is byte-identical")

    rate, channels, samples = render(os.path.join(tmp, "resampled.wav"), "--set", "render.sample_rate=44100")
    frames = len(samples) // max(channels, 1)
    peak = max((abs(v) for v in samples), default=0.0)
    print(f"render.sample_rate=44100: {rate} Hz, {channels} channels, {frames} frames, peak {peak}")
    if (rate, channels, frames) != (44100, 2, 132300):
        jf.fail(f"expected 44100 Hz, 2 channels, 132300 frames; got {rate}, {channels}, {frames}")
    if peak <= 0.01:
        jf.fail(f"resampled render is silent (peak {peak})")


if __name__ == "__main__":
    jf.run_test(main)
