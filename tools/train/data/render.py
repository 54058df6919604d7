"""FluidSynth renders a MIDI file to 48 kHz stereo float32, aligned sample for sample with
the file's clock (smf.py: one tick per sample).

FluidSynth's file renderer applies MIDI events at the start of a 64-sample block, one block
after the block they fall in (measured with FluidSynth 2.3: a note due at sample t starts
sounding at t + 64 … t + 160). Dropping the first 64 rendered samples leaves every note
0 … 2 ms late, under a twentieth of a 40 ms frame; tests/integration/test_train_data.py
checks that a note's energy rises in its labelled frame.
"""

import os
import shutil
import subprocess
import tempfile

import numpy as np

SAMPLE_RATE = 48000
FLUIDSYNTH_BLOCK = 64
INSTALL = "sudo apt-get install fluidsynth fluid-soundfont-gm"
# Debian's General MIDI soundfonts, the better one first: fluid-soundfont-gm (148 MB) and
# musescore-general-soundfont-small (40 MB, what `make deps` installs).
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3")


class SetupError(Exception):
    """Something to install or a path to fix; the message says which and how."""


def fluidsynth_path():
    path = shutil.which("fluidsynth")
    if path is None:
        raise SetupError(f"fluidsynth is not installed; install it with: {INSTALL}")
    return path


def soundfont_path(requested=None):
    """`requested` if it is a soundfont, else the best of Debian's soundfonts that is installed."""
    if requested is not None:
        if not os.path.isfile(requested):
            raise SetupError(f"soundfont {requested} does not exist; Debian's General MIDI soundfonts "
                             f"install with: {INSTALL}")
        # FluidSynth warns about a file that is not a soundfont and renders silence.
        with open(requested, "rb") as f:
            head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise SetupError(f"{requested} is not a SoundFont 2 (.sf2/.sf3) file")
        return requested
    for candidate in SOUNDFONTS:
        if os.path.isfile(candidate):
            return candidate
    raise SetupError(f"no General MIDI soundfont found (looked for {', '.join(SOUNDFONTS)}); "
                     f"install one with: {INSTALL}")


def fluidsynth_version():
    out = subprocess.run([fluidsynth_path(), "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def render(midi, soundfont, start, samples, gain):
    """Samples [start, start + samples) of `midi` (bytes) played with `soundfont`: float32
    [samples, 2], zero-padded where the render ends early."""
    with tempfile.TemporaryDirectory(prefix="continuo-render-") as tmp:
        midi_path = os.path.join(tmp, "piece.mid")
        raw_path = os.path.join(tmp, "piece.raw")
        with open(midi_path, "wb") as f:
            f.write(midi)
        # -n no MIDI input, -i no shell, -q quiet; reverb and chorus on (their defaults);
        # dynamic sample loading decodes only the instruments played, which makes loading
        # the compressed .sf3 several times faster and changes no sample of the output.
        command = [fluidsynth_path(), "-n", "-i", "-q", "-g", str(gain), "-r", str(SAMPLE_RATE),
                   "-o", "synth.dynamic-sample-loading=1", "-o", "synth.cpu-cores=1",
                   "-T", "raw", "-O", "float", "-E", "little", "-F", raw_path, soundfont, midi_path]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not os.path.exists(raw_path):
            raise RuntimeError(f"fluidsynth failed (exit {result.returncode}): {' '.join(command)}\n"
                               f"{result.stderr.strip()}")
        audio = np.fromfile(raw_path, dtype="<f4").reshape(-1, 2)
    audio = audio[FLUIDSYNTH_BLOCK + start:FLUIDSYNTH_BLOCK + start + samples]
    if len(audio) < samples:
        audio = np.concatenate([audio, np.zeros((samples - len(audio), 2), np.float32)])
    return np.ascontiguousarray(audio, dtype=np.float32)
