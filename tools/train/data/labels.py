"""Per-frame labels of a clip, in the Magenta RealTime 2 encoding continuo feeds at run
time (engine/control_state.hpp NoteState; docs/mrt2-reference.md §0).

A frame is 40 ms: 1920 samples at 48 kHz, 25 frames a second. Frame f covers samples
[1920 f, 1920 (f + 1)).

notes[f, p], for the 128 MIDI pitches of the melodic parts (drums never count):
  0 off, 1 held (the note sounds in frame f and started in an earlier frame), 2 onset
  (the note starts in frame f). A note shorter than a frame is still its onset frame; a
  pitch struck again is an onset again, which wins over a held note in the same frame.
  Run time adds -1 (masked) and 3 (model decides); training data has neither.
drums[f]: 1 while the drum part plays (the bars it plays in, from its first hit in a bar),
  0 otherwise. MRT2's drum input is a switch a performer holds on or off (continuo's
  /continuo/drums), not a per-hit trigger, so the label is the part's on/off state too:
  a bar of drums is 1 between its hits as well.
"""

import numpy as np

from data import gm

FRAME_SAMPLES = 1920
OFF, HELD, ONSET = 0, 1, 2


def frames_in(samples):
    if samples % FRAME_SAMPLES:
        raise ValueError(f"{samples} samples is not a whole number of 40 ms frames")
    return samples // FRAME_SAMPLES


def note_states(notes, start, samples):
    """uint8 [frames, 128] for the window [start, start + samples) of the piece."""
    frames = frames_in(samples)
    states = np.zeros((frames, 128), np.uint8)
    for note in notes:
        if note.channel == gm.DRUM_CHANNEL:
            continue
        begin, end = note.start - start, note.end - start
        if end <= 0 or begin >= samples:
            continue
        first_held = 0
        if begin >= 0:
            onset_frame = begin // FRAME_SAMPLES
            states[onset_frame, note.pitch] = ONSET
            first_held = onset_frame + 1
        last = min(frames, -(-end // FRAME_SAMPLES))  # frames the note reaches into
        column = states[first_held:last, note.pitch]
        np.maximum(column, HELD, out=column)
    return states


def drum_flags(drum_spans, start, samples):
    """uint8 [frames]: 1 in every frame a drum span overlaps."""
    frames = frames_in(samples)
    flags = np.zeros(frames, np.uint8)
    for span_start, span_end in drum_spans:
        begin, end = span_start - start, span_end - start
        if end <= 0 or begin >= samples:
            continue
        flags[max(0, begin) // FRAME_SAMPLES:min(frames, -(-end // FRAME_SAMPLES))] = 1
    return flags
