"""A random generator and a style → a piece: note events in samples at 48 kHz.

The piece is a chord progression in a key and mode, cut into 4-bar sections that switch
the drums and the lead on and off and change energy, played by up to five parts: chords
(block or broken), bass, a lead (melody or arpeggio), a pad, drums on channel 10. Every
random choice draws from the one numpy Generator passed in, in a fixed order, so the same
seed gives the same piece. Times are whole samples so that labels.py can place every note
in its 40 ms frame exactly.
"""

from dataclasses import dataclass

import numpy as np

from data import gm
from data.styles import DYNAMICS, MODES, Style

SAMPLE_RATE = 48000
CHORDS, BASS, LEAD, PAD = 0, 1, 2, 3  # MIDI channels of the melodic parts
PART_NAMES = {CHORDS: "chords", BASS: "bass", LEAD: "lead", PAD: "pad", gm.DRUM_CHANNEL: "drums"}
SECTION_BARS = 4
ACCENTS = {"o": 0.55, "x": 0.8, "X": 1.0}
PART_LEVELS = {CHORDS: 0.8, BASS: 0.9, LEAD: 0.95, PAD: 0.6, gm.DRUM_CHANNEL: 0.95}  # velocity scale
PART_VOLUMES = {CHORDS: 92, BASS: 100, LEAD: 100, PAD: 78, gm.DRUM_CHANNEL: 100}  # CC 7


@dataclass(frozen=True)
class Note:
    channel: int
    pitch: int
    velocity: int  # 1..127
    start: int     # sample at 48 kHz from the start of the piece
    end: int       # sample, exclusive; greater than start


@dataclass
class Piece:
    style: Style
    bpm: int
    key: int                    # pitch class of the tonic, 0 = C
    mode: str
    beats_per_bar: int
    dynamic: str                # a key of styles.DYNAMICS
    moods: tuple[str, ...]
    programs: dict[int, int]    # channel → GM program; channel 10's is the drum kit
    controls: dict[int, dict[int, int]]  # channel → {controller: value} set at time 0
    notes: list[Note]
    drum_spans: list[tuple[int, int]]  # [start, end) samples while the drum part plays
    samples: int                # length of the piece


class _Grid:
    """Bar and 16th-step positions → samples, with swing and human timing jitter."""

    def __init__(self, rng, bpm, beats_per_bar, style):
        self.rng = rng
        self.beat = 60.0 / bpm * SAMPLE_RATE
        self.steps_per_bar = 4 * beats_per_bar
        self.swing = style.swing
        self.swing_unit = style.swing_unit
        self.jitter = style.humanize_ms * SAMPLE_RATE / 1000.0

    def exact(self, step):
        """Where absolute 16th step `step` falls, swing applied, no jitter (float samples)."""
        beat, within = divmod(step, 4)
        if self.swing_unit == 8:
            position = _swung(within / 4.0, self.swing)
        else:
            eighth, sixteenth = divmod(within, 2)
            position = (eighth + _swung(sixteenth / 2.0, self.swing)) / 2.0
        return (beat + position) * self.beat

    def time(self, step):
        """Where a note played on `step` starts: a whole sample, humanised."""
        t = self.exact(step)
        if self.jitter > 0:
            t += self.rng.normal(0.0, self.jitter)
        return max(0, int(round(t)))


def _swung(position, swing):
    """Moves the off-beat half of a pair from 0.5 to `swing` (positions in 0..1)."""
    if position < 0.5:
        return position * 2.0 * swing
    return swing + (position - 0.5) * 2.0 * (1.0 - swing)


def _steps(pattern, n):
    """A pattern string repeated or cut to n steps."""
    return (pattern * (n // len(pattern) + 1))[:n]


def _stack(pitch_classes, lowest):
    """Pitch classes stacked upward from the first one's lowest pitch >= `lowest`."""
    pitch = lowest + (pitch_classes[0] - lowest) % 12
    pitches = [pitch]
    for pc in pitch_classes[1:]:
        pitch += (pc - pitch) % 12 or 12
        pitches.append(pitch)
    return pitches


class _Harmony:
    """The key, mode and progression: which chord sounds at each step."""

    def __init__(self, key, mode, progression, steps_per_chord):
        self.key = key
        self.scale = MODES[mode]
        self.progression = progression
        self.steps_per_chord = steps_per_chord

    def degree_at(self, step):
        return self.progression[(step // self.steps_per_chord) % len(self.progression)]

    def chord_end(self, step):
        """The first step of the next chord."""
        return (step // self.steps_per_chord + 1) * self.steps_per_chord

    def pitch_class(self, degree):
        return (self.key + self.scale[degree % 7]) % 12

    def chord(self, degree, size):
        """Pitch classes of the diatonic chord on `degree`: root, third, fifth(, seventh)."""
        return [self.pitch_class(degree + 2 * k) for k in range(size)]


def compose(style, rng, samples):
    """A piece of `style` at least `samples` long, every choice drawn from `rng`."""
    bpm = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
    beats_per_bar = int(rng.choice(style.meters))
    mode = str(rng.choice(style.modes))
    key = int(rng.integers(12))
    progression = style.progressions[rng.integers(len(style.progressions))]
    beats_per_chord = int(rng.choice(style.beats_per_chord))
    if beats_per_bar == 3:  # keep chord changes on bar lines in 3/4
        beats_per_chord = 3 if beats_per_chord <= 4 else 6
    dynamic = str(rng.choice(style.dynamics))
    moods = tuple(str(m) for m in rng.choice(style.moods, size=2, replace=False))

    grid = _Grid(rng, bpm, beats_per_bar, style)
    harmony = _Harmony(key, mode, progression, 4 * beats_per_chord)
    bar_samples = grid.beat * beats_per_bar
    bars = int(np.ceil(samples / bar_samples)) + 1
    sections = (bars + SECTION_BARS - 1) // SECTION_BARS
    level = DYNAMICS[dynamic]
    energy = [float(rng.uniform(0.82, 1.08)) for _ in range(sections)]

    writer = _Writer(rng, grid, harmony, level, energy, bars)
    programs = {CHORDS: int(rng.choice(style.chord_programs))}
    writer.chords(style)
    if style.bass_programs:
        programs[BASS] = int(rng.choice(style.bass_programs))
        writer.bass(style)
    if style.lead_programs:
        programs[LEAD] = int(rng.choice(style.lead_programs))
        lead_on = [bool(rng.random() < 0.8) for _ in range(sections)]
        if style.lead == "melody":
            writer.melody(style, lead_on)
        else:
            writer.arpeggio(style, lead_on)
    if style.pad_programs and rng.random() < 0.5:
        programs[PAD] = int(rng.choice(style.pad_programs))
        writer.pad()
    drum_spans = []
    if style.drum_kits and rng.random() < style.drum_chance:
        programs[gm.DRUM_CHANNEL] = int(rng.choice(style.drum_kits))
        drums_on = [bool(rng.random() < (0.7 if s == 0 else 0.9)) for s in range(sections)]
        drum_spans = writer.drums(style, drums_on)

    controls = {}
    for channel in programs:
        controls[channel] = {
            7: int(np.clip(PART_VOLUMES[channel] + rng.integers(-8, 9), 1, 127)),
            10: 64 if channel in (BASS, gm.DRUM_CHANNEL) else int(64 + rng.integers(-24, 25)),
            91: int(np.clip(style.reverb // (2 if channel == gm.DRUM_CHANNEL else 1) + rng.integers(-10, 11), 0, 127)),
            93: int(rng.integers(0, 40)) if channel in (CHORDS, PAD) else 0,
        }
    notes = _without_overlaps([n for n in writer.notes if n.start < samples])
    return Piece(style=style, bpm=bpm, key=key, mode=mode, beats_per_bar=beats_per_bar,
                 dynamic=dynamic, moods=moods, programs=programs, controls=controls,
                 notes=notes, drum_spans=drum_spans, samples=samples)


class _Writer:
    """Writes the parts of one piece into `notes`."""

    def __init__(self, rng, grid, harmony, level, energy, bars):
        self.rng = rng
        self.grid = grid
        self.harmony = harmony
        self.level = level
        self.energy = energy
        self.bars = bars
        self.steps = bars * grid.steps_per_bar
        self.notes = []

    def section(self, step):
        return step // (SECTION_BARS * self.grid.steps_per_bar)

    def add(self, channel, pitch, accent, step, end_time):
        """A note on `step` until `end_time` (samples); velocity from part, accent, energy."""
        velocity = 127 * self.level * PART_LEVELS[channel] * accent * self.energy[self.section(step)]
        velocity *= self.rng.uniform(0.93, 1.07)
        start = self.grid.time(step)
        end = max(int(round(end_time)), start + SAMPLE_RATE // 100)  # at least 10 ms
        if 0 <= pitch <= 127:
            self.notes.append(Note(channel, int(pitch), int(np.clip(round(velocity), 1, 127)), start, end))

    def hits(self, patterns, per_bar_change):
        """(step, accent char) of a part: a pattern per section, sometimes another for a bar."""
        spb = self.grid.steps_per_bar
        hits = []
        pattern = ""
        for bar in range(self.bars):
            if bar % SECTION_BARS == 0:
                pattern = patterns[self.rng.integers(len(patterns))]
            this_bar = pattern
            if per_bar_change and self.rng.random() < 0.25:
                this_bar = patterns[self.rng.integers(len(patterns))]
            if this_bar:
                for i, c in enumerate(_steps(this_bar, spb)):
                    if c != ".":
                        hits.append((bar * spb + i, c))
        return hits

    def with_chord_starts(self, hits, fill):
        """Adds a hit at each chord's start when no hit falls inside that chord, so no chord
        goes unplayed (an empty pattern: exactly one held note per chord)."""
        spc = self.harmony.steps_per_chord
        covered = {step // spc for step, _ in hits}
        extra = [(c * spc, fill) for c in range(self.steps // spc + 1) if c not in covered]
        return sorted(hits + [h for h in extra if h[0] < self.steps])

    def gap_end(self, hits, i, legato):
        """When hit i's note ends: `legato` of the way to the next hit, never past its chord."""
        step = hits[i][0]
        next_step = hits[i + 1][0] if i + 1 < len(hits) else self.harmony.chord_end(step)
        start = self.grid.exact(step)
        end = start + legato * (self.grid.exact(next_step) - start)
        return min(end, self.grid.exact(self.harmony.chord_end(step)))

    def voicing(self, style, degree, previous):
        h = self.harmony
        if style.voicing == "power":
            root = _stack([h.pitch_class(degree)], 40)[0]
            return [root, root + 7, root + 12]
        if style.voicing == "open":
            root, third, fifth = _stack(h.chord(degree, 3), 38)
            return [root, fifth, third + 12, fifth + 12]
        pcs = h.chord(degree, 4 if style.voicing == "seventh" else 3)
        candidates = [_stack(pcs[i:] + pcs[:i], 53) for i in range(len(pcs))]
        target = np.mean(previous) if previous else 62.0  # voice leading: stay near the last chord
        return min(candidates, key=lambda v: abs(np.mean(v) - target))

    def chords(self, style):
        hits = self.with_chord_starts(self.hits(style.chord_patterns, per_bar_change=True), "x")
        previous = None
        voicing = []
        broken_index = 0
        chord_of_last_hit = -1
        for i, (step, accent) in enumerate(hits):
            chord = step // self.harmony.steps_per_chord
            if chord != chord_of_last_hit:
                voicing = self.voicing(style, self.harmony.degree_at(step), previous)
                previous, chord_of_last_hit, broken_index = voicing, chord, 0
            end = self.gap_end(hits, i, style.chord_legato)
            if style.chord_broken:
                voice = style.chord_broken[broken_index % len(style.chord_broken)]
                self.add(CHORDS, voicing[voice % len(voicing)], ACCENTS[accent], step, end)
                broken_index += 1
            else:
                for pitch in voicing:
                    self.add(CHORDS, pitch, ACCENTS[accent], step, end)

    def pad(self):
        h = self.harmony
        for chord_start in range(0, self.steps, h.steps_per_chord):
            pcs = h.chord(h.degree_at(chord_start), 3)
            end = self.grid.exact(h.chord_end(chord_start))
            for pitch in _stack(pcs, 60):
                self.add(PAD, pitch, 0.8, chord_start, end)

    def bass(self, style):
        h = self.harmony
        hits = self.with_chord_starts(self.hits(style.bass_patterns, per_bar_change=False), "R")
        for i, (step, kind) in enumerate(hits):
            degree = h.degree_at(step)
            root = _stack([h.pitch_class(degree)], 31)[0]
            if kind == "A":
                pitch = _stack([h.pitch_class(h.degree_at(h.chord_end(step)))], 31)[0] - 1
            else:
                offsets = {"R": 0, "O": 12,
                           "T": (h.pitch_class(degree + 2) - root) % 12,
                           "F": (h.pitch_class(degree + 4) - root) % 12,
                           "S": (h.pitch_class(degree + 1) - root) % 12}
                pitch = root + offsets[kind]
            accent = 1.0 if step % 4 == 0 else 0.85
            self.add(BASS, pitch, accent, step, self.gap_end(hits, i, style.bass_legato))

    def melody(self, style, lead_on):
        """Two-bar motifs: rhythm kept, pitches a scale walk that lands on chord tones on beats."""
        spb = self.grid.steps_per_bar
        density = self.rng.uniform(*style.lead_density)
        weights = np.array([1.8 if s % spb == 0 else 1.4 if s % 4 == 0 else 1.0 if s % 2 == 0 else 0.45
                            for s in range(2 * spb)])
        chance = np.clip(density * weights / weights.mean(), 0.0, 0.95)
        low, high = style.lead_register
        tonic = _stack([self.harmony.key], low)[0]
        scale = self.harmony.scale
        top_degree = 0
        while tonic + 12 * ((top_degree + 1) // 7) + scale[(top_degree + 1) % 7] <= high:
            top_degree += 1
        degree = top_degree // 2

        def pitch_of(d):
            return tonic + 12 * (d // 7) + scale[d % 7]

        onsets = []
        for section, on in enumerate(lead_on):
            if not on:
                continue
            rhythm = np.nonzero(self.rng.random(2 * spb) < chance)[0]
            if len(rhythm) == 0:
                rhythm = np.array([0])
            first = section * SECTION_BARS * spb
            for repeat in range(SECTION_BARS // 2):
                onsets.extend(int(first + repeat * 2 * spb + s) for s in rhythm)
        onsets = [s for s in onsets if s < self.steps]
        for i, step in enumerate(onsets):
            degree += int(self.rng.choice([-3, -2, -1, 0, 1, 2, 3], p=[.04, .12, .3, .08, .3, .12, .04]))
            degree = int(np.clip(degree, 0, top_degree))
            if step % 4 == 0:  # strong beats land on a tone of the chord under them
                chord = self.harmony.chord(self.harmony.degree_at(step), 3)
                candidates = [d for d in range(top_degree + 1) if (pitch_of(d) % 12) in chord]
                degree = min(candidates, key=lambda d: abs(d - degree))
            next_step = onsets[i + 1] if i + 1 < len(onsets) else step + 4
            start = self.grid.exact(step)
            gap = min(self.grid.exact(next_step) - start, 2 * self.grid.beat)
            self.add(LEAD, pitch_of(degree), 0.9 if step % 4 else 1.0, step, start + style.lead_legato * gap)

    def arpeggio(self, style, lead_on):
        """Chord tones over two octaves, up, down or up-and-down, at a steady rate."""
        density = self.rng.uniform(*style.lead_density)
        rate = 1 if density > 0.75 else 2 if density > 0.35 else 4  # steps per note
        shape = self.rng.choice(["up", "down", "updown"])
        low = style.lead_register[0]
        i = 0
        for step in range(0, self.steps, rate):
            if not lead_on[self.section(step)]:
                continue
            pcs = self.harmony.chord(self.harmony.degree_at(step), 3)
            tones = sorted(p for p in range(low, low + 24) if p % 12 in pcs)
            cycle = tones if shape == "up" else tones[::-1] if shape == "down" else tones + tones[-2:0:-1]
            start = self.grid.exact(step)
            end = min(start + style.lead_legato * rate * self.grid.exact(1),
                      self.grid.exact(self.harmony.chord_end(step)))
            self.add(LEAD, cycle[i % len(cycle)], 1.0 if step % 4 == 0 else 0.85, step, end)
            i += 1

    def drums(self, style, drums_on):
        """The style's groove per section, a crash into a section, sometimes a fill out of it;
        returns the spans the drum part plays in."""
        spb = self.grid.steps_per_bar
        pattern = style.drum_patterns[self.rng.integers(len(style.drum_patterns))]
        spans = []
        for bar in range(self.bars):
            section = bar // SECTION_BARS
            if not drums_on[section]:
                continue
            first = bar * spb
            hits = []
            for key in pattern:
                hits.extend((first + i, key, c) for i, c in enumerate(_steps(pattern[key], spb)) if c != ".")
            last_bar = bar % SECTION_BARS == SECTION_BARS - 1
            next_on = section + 1 < len(drums_on) and drums_on[section + 1]
            if last_bar and next_on and self.rng.random() < 0.4:
                fill_from = first + spb - 4
                hits = [h for h in hits if h[0] < fill_from or h[1] == gm.KICK]
                hits += [(fill_from + k, tom, "x") for k, tom in
                         enumerate((gm.SNARE, gm.HIGH_TOM, gm.MID_TOM, gm.LOW_TOM))]
            if bar % SECTION_BARS == 0 and section > 0 and self.rng.random() < 0.6:
                hits.append((first, gm.CRASH, "x"))
            written = len(self.notes)
            for step, key, accent in hits:
                start = self.grid.exact(step)
                self.add(gm.DRUM_CHANNEL, key, ACCENTS[accent], step, start + self.grid.exact(1))
            # The bar, widened to hits that human timing pushed over its lines.
            starts = [n.start for n in self.notes[written:]] or [int(round(self.grid.exact(first)))]
            span = (min(int(round(self.grid.exact(first))), min(starts)),
                    max(int(round(self.grid.exact(first + spb))), max(starts) + 1))
            if spans and spans[-1][1] >= span[0]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
            else:
                spans.append(span)
        return spans


def _without_overlaps(notes):
    """Sorted notes with no two on one channel and pitch sounding at once: MIDI cannot say
    which of two overlapping notes a note-off ends, so the earlier one ends where the later
    starts (and is dropped if nothing of it is left)."""
    notes = sorted(notes, key=lambda n: (n.channel, n.pitch, n.start, n.end))
    kept = []
    for note in notes:
        last = kept[-1] if kept else None
        if last and last.channel == note.channel and last.pitch == note.pitch and last.end > note.start:
            if last.start >= note.start:
                kept.pop()
            else:
                kept[-1] = Note(last.channel, last.pitch, last.velocity, last.start, note.start)
        kept.append(note)
    return sorted(kept, key=lambda n: (n.start, n.channel, n.pitch))
