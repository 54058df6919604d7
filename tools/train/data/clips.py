"""One training clip from (seed, index): compose a piece, render it, cut a window out of it,
label the window's frames and caption it. Nothing here depends on other clips, so clip i of
a seed is the same whatever the number of clips, the shard size or the number of jobs.
"""

from dataclasses import dataclass
import json

import numpy as np

from data import captions, compose, labels, render, smf, styles

SAMPLE_RATE = 48000
RENDER_GAIN = 0.5  # the synth's master gain (FluidSynth's); the float render is levelled afterwards
# Levels the way mastered recordings differ: a soft piece sits lower than a loud one, but
# no clip is so quiet that 16 bits lose its detail or so loud that it clips.
LOUDNESS_DBFS = {"soft": -24.0, "moderate": -20.0, "loud": -17.0}


@dataclass
class Clip:
    index: int
    style: int          # index into styles.STYLES
    audio: np.ndarray   # int16 [samples, 2], 48 kHz
    notes: np.ndarray   # uint8 [frames, 128]: 0 off, 1 held, 2 onset
    drums: np.ndarray   # uint8 [frames]: 1 while the drum part plays
    caption: str
    meta: str           # JSON: what the caption was written from, and the window


def style_of(seed, index):
    """Styles take turns in an order shuffled by the seed: every style gets the same number
    of clips, give or take one."""
    order = np.random.default_rng(np.random.SeedSequence([seed])).permutation(len(styles.STYLES))
    return int(order[index % len(order)])


def _levelled(audio, target_dbfs):
    """The clip scaled as a whole to `target_dbfs` RMS, or less where its peak would pass
    0.99: levels within the clip (sections, accents) stay as played."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    peak = float(np.abs(audio).max())
    if rms < 1e-6:
        return audio, 1.0
    scale = min(10 ** (target_dbfs / 20) / rms, 0.99 / peak)
    return (audio * scale).astype(np.float32), scale


def make(seed, index, samples, soundfont, synth="fluidsynth"):
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    style = style_of(seed, index)
    # The window starts in the middle of the music most of the time (the reverb already
    # ringing, notes already held), as a crop of a longer recording would.
    if rng.random() < 0.2:
        start = 0
    else:
        start = int(rng.integers(1, 6 * 25)) * labels.FRAME_SAMPLES
    piece = compose.compose(styles.STYLES[style], rng, start + samples)
    midi = smf.midi_bytes(piece.programs, piece.controls, piece.notes, piece.samples)
    audio = render.render(midi, soundfont, start, samples, RENDER_GAIN, synth)
    notes = labels.note_states(piece.notes, start, samples)
    drums = labels.drum_flags(piece.drum_spans, start, samples)
    if notes.any() and not audio.any():
        raise RuntimeError(f"{synth} rendered silence for clip {index}, which has notes; "
                           f"does {soundfont} hold General MIDI instruments?")
    audio, scale = _levelled(audio, LOUDNESS_DBFS[piece.dynamic] + rng.uniform(-1.5, 1.5))
    heard = captions.instruments_heard(piece, start, samples, drums)
    meta = {"style": piece.style.name, "bpm": piece.bpm, "key": captions.KEY_NAMES[piece.key],
            "mode": piece.mode, "beats_per_bar": piece.beats_per_bar, "dynamic": piece.dynamic,
            "moods": list(piece.moods), "instruments": heard,
            "programs": {compose.PART_NAMES[c]: p for c, p in sorted(piece.programs.items())},
            "window_start_sample": start, "level_scale": round(scale, 4)}
    return Clip(index=index, style=style, audio=np.round(audio * 32767).astype(np.int16),
                notes=notes, drums=drums, caption=captions.caption(piece, heard, rng),
                meta=json.dumps(meta, sort_keys=True))
