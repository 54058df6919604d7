"""A synth renders a MIDI file to 48 kHz stereo float32, aligned sample for sample with the
file's clock (smf.py: one tick per sample). Two synths:

fluidsynth (Debian's, the default): reverb and chorus. Its file renderer applies MIDI events
at the start of a 64-sample block, one block after the block they fall in (measured with
FluidSynth 2.3: a note due at sample t starts sounding at t + 64 … t + 160). Dropping the
first 64 rendered samples leaves every note 0 … 2 ms late, under a twentieth of a 40 ms frame.

tinysoundfont (PyPI, a 0.2 MB self-contained wheel; TinySoundFont): no reverb or chorus, each
event applied at its exact sample, several times faster. A note sounds exactly 64 samples after
the sample it is struck at (measured with tinysoundfont 0.3.7), which is dropped, so every note
starts on its sample. It is for machines without
FluidSynth and its 65 libraries: the GPU machine renders its training data with it from a
carried wheel and soundfont (docs/training-codec.md). A dataset is rendered by one synth;
its manifest says which.

tests/integration/test_train_data.py checks with each that a note's energy rises in its
labelled frame.
"""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from data import gm, smf

SAMPLE_RATE = 48000
FLUIDSYNTH_BLOCK = 64
TINYSOUNDFONT_DELAY = 64
FLUSH_SAMPLES = SAMPLE_RATE // 10  # 100 ms: TinySoundFont's quick release takes 10
INSTALL = "sudo apt-get install fluidsynth fluid-soundfont-gm"
SYNTHS = ("fluidsynth", "tinysoundfont")
TINYSOUNDFONT_INSTALL = ("pip install --no-deps tinysoundfont (tools/train/setup_env.sh puts it in .venv-train; "
                         "--no-deps: its audio-output dependency, pyaudio, is not needed to render)")
DRUM_BANK = 128  # SoundFont 2: General MIDI percussion kits live in bank 128
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


def tinysoundfont_module():
    try:
        import tinysoundfont
    except ImportError:
        raise SetupError(f"tinysoundfont is not installed for {sys.executable}; install it with: "
                         f"{TINYSOUNDFONT_INSTALL}") from None
    return tinysoundfont


def check_synth(synth):
    """Raises SetupError, saying how to install it, when `synth` cannot run here."""
    if synth == "fluidsynth":
        fluidsynth_path()
    elif synth == "tinysoundfont":
        tinysoundfont_module()
    else:
        raise SetupError(f"unknown synth {synth!r}; one of {', '.join(SYNTHS)}")


def synth_version(synth):
    if synth == "tinysoundfont":
        tinysoundfont_module()
        return f"tinysoundfont {importlib.metadata.version('tinysoundfont')}"
    out = subprocess.run([fluidsynth_path(), "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def render(midi, soundfont, start, samples, gain, synth="fluidsynth"):
    """Samples [start, start + samples) of `midi` (bytes) played with `soundfont` by `synth`:
    float32 [samples, 2], zero-padded where the render ends early."""
    if synth == "tinysoundfont":
        return _tinysoundfont(midi, soundfont, start, samples, gain)
    return _fluidsynth(midi, soundfont, start, samples, gain)


_loaded = {}  # (soundfont, gain) -> (Synth, font id): one per process


def _tinysoundfont(midi, soundfont, start, samples, gain):
    """Generates up to each event's sample, then applies it; `gain` as FluidSynth's (linear).
    The synth and its loaded soundfont are kept for the process's next clip, because loading is
    slow (an .sf3 decodes all its samples, about 4 s). Afterwards TinySoundFont's tsf_reset
    frees every channel and releases every voice within 10 ms, and FLUSH_SAMPLES of output let
    those releases end, which leaves it as loaded: a clip then renders the same bytes whatever
    was rendered before it. (Without the flush the voices still fading take other slots in the
    next clip, which changes its float sums in the last bit.)"""
    if (soundfont, gain) not in _loaded:
        synth = tinysoundfont_module().Synth(gain=20 * np.log10(gain), samplerate=SAMPLE_RATE)
        _loaded[soundfont, gain] = synth, synth.sfload(soundfont)
    synth, font = _loaded[soundfont, gain]
    try:
        return _play(synth, font, smf.events(midi), start + TINYSOUNDFONT_DELAY, samples)
    finally:
        synth.soundfonts[font].reset()  # the binding's SoundFont: tsf_reset
        synth.generate(FLUSH_SAMPLES)


def _play(synth, font, events, start, samples):
    """Samples [start, start + samples) of `events` on `synth`."""
    end = start + samples
    audio = np.zeros((end, 2), np.float32)
    now = 0
    for tick, message in events:
        if tick >= end:
            break
        if tick > now:
            audio[now:tick] = np.frombuffer(synth.generate(tick - now), np.float32).reshape(-1, 2)
            now = tick
        kind, channel = message[0] >> 4, message[0] & 0x0F
        if kind == 0xC:
            _select(synth, font, channel, message[1])
        elif kind == 0xB:
            synth.control_change(channel, message[1], message[2])
        elif kind == 0x9:
            synth.noteon(channel, message[1], message[2])
        elif kind == 0x8:
            synth.noteoff(channel, message[1])
    if now < end:
        audio[now:] = np.frombuffer(synth.generate(end - now), np.float32).reshape(-1, 2)
    return np.ascontiguousarray(audio[start:])


def _select(synth, font, channel, program):
    """The program on the channel, or the bank's first where the soundfont lacks it (a small
    font has few drum kits), as FluidSynth falls back."""
    drums = channel == gm.DRUM_CHANNEL
    bank = DRUM_BANK if drums else 0
    try:
        synth.program_select(channel, font, bank, program, is_drums=drums)
    except RuntimeError:
        synth.program_select(channel, font, bank, 0, is_drums=drums)


def _fluidsynth(midi, soundfont, start, samples, gain):
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
