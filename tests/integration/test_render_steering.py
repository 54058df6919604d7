"""continuo render --midi --control steers an offline render: a MIDI file's C major triad
(1.0 s to 2.0 s, held on by the sustain pedal until 2.5 s) and a control script's A3
(0 to 1.0 s) reach the chords double at their frame boundaries, through the live MIDI
handling and the OSC address map. The spectrum of each window peaks where it should
(Goertzel); the same inputs give a byte-identical WAV; bad inputs exit 2 with one line
naming the file and the line or byte."""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

RATE = 48000
TRIAD = {60, 64, 67}  # C4 E4 G4
CANDIDATES = range(45, 85)  # A2..C#6: every pitch the double could play here


SCRIPT = """# A3 until the triad comes in
0.0 /continuo/note 57 100
1.0 /continuo/note 57 0
0.5 /continuo/seed 7   # out of order on purpose: commands are sorted by time
"""


def goertzel_power(samples, freq, rate):
    """Power of one frequency in a Hann-windowed block (stdlib only)."""
    n = len(samples)
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for i, x in enumerate(samples):
        w = 0.5 - 0.5 * math.cos(2.0 * math.pi * i / (n - 1))
        s1, s2 = x * w + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def strongest_pitches(left, start_s, end_s, count=3):
    block = left[int(start_s * RATE):int(end_s * RATE):2]  # every other sample: plenty for pitches below 2 kHz
    power = {p: goertzel_power(block, 440.0 * 2 ** ((p - 69) / 12), RATE // 2) for p in CANDIDATES}
    return set(sorted(power, key=power.get, reverse=True)[:count]), power


def render(out, midi, script, *extra):
    return jf.run_cli(["render", "--seconds", "3.2", "--model", "double:chords", "--seed", "3", "--out", out,
                       "--midi", midi, "--control", script, *extra])


def check_spectrum(path):
    rate, channels, samples = jf.read_wav(path)
    if (rate, channels) != (RATE, 2):
        jf.fail(f"expected {RATE} Hz stereo, got {rate} Hz, {channels} channels")
    left = samples[0::2]
    before, _ = strongest_pitches(left, 0.2, 0.9, 1)
    print(f"0.2-0.9 s (script's A3): strongest {sorted(before)}")
    if before != {57}:
        jf.fail(f"before the triad the control script's A3 (57) should sound alone, strongest {sorted(before)}")
    top_before, _ = strongest_pitches(left, 0.2, 0.9)
    if top_before == TRIAD:
        jf.fail("the window before 1.0 s already holds exactly C4/E4/G4")
    for start, end, what in ((1.1, 1.9, "MIDI triad"), (2.1, 2.4, "triad held by the pedal")):
        top, power = strongest_pitches(left, start, end)
        print(f"{start}-{end} s ({what}): strongest {sorted(top)}")
        if top != TRIAD:
            jf.fail(f"{start}-{end} s should peak at C4/E4/G4 (60, 64, 67), strongest {sorted(top)}")
        weakest_triad = min(power[p] for p in TRIAD)
        loudest_other = max(power[p] for p in CANDIDATES if p not in TRIAD)
        if weakest_triad < 100 * loudest_other:
            jf.fail(f"{start}-{end} s: triad only {weakest_triad / loudest_other:.1f}x above the rest")
    after, _ = strongest_pitches(left, 2.6, 3.1)
    print(f"2.6-3.1 s (pedal up, double's own progression): strongest {sorted(after)}")
    if after == TRIAD:
        jf.fail("the triad still sounds after the pedal went up at 2.5 s")


def expect_usage_error(result, *fragments):
    print(result)
    lines = [line for line in result.stderr.splitlines() if line.startswith("continuo:")]  # not the info log
    if result.returncode != 2:
        jf.fail(f"expected exit 2, got {result.returncode}")
    if len(lines) != 1 or not all(f in lines[0] for f in fragments):
        jf.fail(f"expected one stderr line containing {fragments}, got {lines}")


def check_bad_inputs(tmp, out, midi, script):
    truncated = os.path.join(tmp, "truncated.mid")
    with open(truncated, "wb") as f:
        f.write(jf.triad_midi()[:-7])
    bad_script = os.path.join(tmp, "bad.ctl")
    with open(bad_script, "w") as f:
        f.write("0 /continuo/temperature 1.0\n1 /continuo/tempo 2\n")
    missing = os.path.join(tmp, "missing.mid")
    expect_usage_error(render(out, missing, script), missing, "cannot open")
    expect_usage_error(render(out, truncated, script), truncated, "byte", "truncated")
    expect_usage_error(render(out, midi, bad_script), bad_script + ":2:", "/continuo/tempo")
    expect_usage_error(render(out, midi, script, "--prompt", "warm strings"),
                       "--prompt: no text tower in this model: set /continuo/style/tokens instead")
    expect_usage_error(jf.run_cli(["render", "--seconds", "1", "--out", out, "--midi"]), "--midi needs a value")
    if os.path.exists(out):
        jf.fail(f"a failed render left {out} behind")


def main():
    tmp = jf.tmpdir("render_steering")
    midi = os.path.join(tmp, "triad.mid")
    with open(midi, "wb") as f:
        f.write(jf.triad_midi())
    script = os.path.join(tmp, "steer.ctl")
    with open(script, "w") as f:
        f.write(SCRIPT)

    first, second = os.path.join(tmp, "first.wav"), os.path.join(tmp, "second.wav")
    for path in (first, second):
        result = render(path, midi, script)
        print(result)
        if result.returncode != 0:
            jf.fail(f"render exited with {result.returncode}")
    check_spectrum(first)
    with open(first, "rb") as a, open(second, "rb") as b:
        if a.read() != b.read():
            jf.fail("the same MIDI file, script and seed gave two different WAVs")
    print("re-render byte-identical")

    check_bad_inputs(tmp, os.path.join(tmp, "bad.wav"), midi, script)
    jf.check_prompt_renders(tmp, os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny_text"), "loud rock drums")


if __name__ == "__main__":
    jf.run_test(main)
