"""The styles the composer writes in: everything that makes a lo-fi piece differ from a
house track is data here; compose.py holds no style names.

Step patterns are strings with one character per 16th note of a bar (16 in 4/4, 12 in
3/4; a shorter pattern repeats, a longer one is cut; an empty pattern is one note held
for each chord):
  drums and chords: '.' rest, 'o' ghost, 'x' hit, 'X' accent;
  bass: '.' rest, 'R' chord root, 'T' third, 'F' fifth, 'O' root an octave up,
        'S' a scale tone next to the root, 'A' a semitone below the next chord's root.
Chord progressions are scale degrees, 0-based (0 = tonic), in the piece's mode.
"""

from dataclasses import dataclass

from data import gm

MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}

DYNAMICS = {"soft": 0.6, "moderate": 0.78, "loud": 0.95}  # velocity scale of the piece


@dataclass(frozen=True)
class Style:
    name: str                       # as captions say it
    tempo: tuple[int, int]          # bpm, inclusive
    meters: tuple[int, ...]         # beats per bar to choose from
    modes: tuple[str, ...]
    progressions: tuple[tuple[int, ...], ...]
    beats_per_chord: tuple[int, ...]
    voicing: str                    # "triad", "seventh", "power" or "open"
    chord_programs: tuple[int, ...]
    chord_patterns: tuple[str, ...]
    chord_legato: float             # fraction of the gap to the next hit a chord sounds
    chord_broken: tuple[int, ...]   # empty: block chords; else voice order of a broken chord
    bass_programs: tuple[int, ...]  # empty: no bass part
    bass_patterns: tuple[str, ...]
    bass_legato: float
    lead_programs: tuple[int, ...]  # empty: no lead part
    lead: str                       # "melody" or "arpeggio"
    lead_density: tuple[float, float]  # chance of a note on an average 16th step
    lead_register: tuple[int, int]  # MIDI pitch range
    lead_legato: float
    pad_programs: tuple[int, ...]   # a sustained second chord layer, sometimes
    drum_kits: tuple[int, ...]      # empty: never drums
    drum_patterns: tuple[dict[int, str], ...]
    drum_chance: float              # chance a piece has drums at all
    swing: float                    # where the off-beat falls: 0.5 straight, 0.67 triplet
    swing_unit: int                 # 8: swung 8ths, 16: swung 16ths
    humanize_ms: float              # timing jitter, standard deviation
    dynamics: tuple[str, ...]       # keys of DYNAMICS
    reverb: int                     # CC 91 send
    moods: tuple[str, ...]


POP = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (0, 3, 0, 4))
MINOR_LOOPS = ((0, 5, 2, 6), (0, 6, 5, 6), (0, 3, 6, 5), (0, 5, 3, 4), (0, 0, 5, 6))
JAZZ = ((1, 4, 0, 0), (0, 5, 1, 4), (2, 5, 1, 4), (1, 4, 0, 5))
VAMPS = ((0, 3), (0, 6), (0, 1), (0, 0, 3, 3))

ROCK_BEAT = {gm.KICK: "X.....x.X.....x.", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."}
FOUR_ON_FLOOR = {gm.KICK: "X...X...X...X...", gm.CLAP: "....x.......x...",
                 gm.CLOSED_HAT: "o...o...o...o...", gm.OPEN_HAT: "..x...x...x...x."}

STYLES = (
    Style(
        name="ambient", tempo=(60, 84), meters=(4,), modes=("lydian", "major", "dorian"),
        progressions=((0, 3), (0, 5, 3, 4), (0, 1), (3, 0)), beats_per_chord=(8, 4),
        voicing="open", chord_programs=(89, 88, 94, 92, 95),
        chord_patterns=("",), chord_legato=1.0, chord_broken=(),
        bass_programs=(35, 38), bass_patterns=("",), bass_legato=1.0,
        lead_programs=(8, 9, 10, 11, 46), lead="arpeggio", lead_density=(0.25, 0.5),
        lead_register=(67, 91), lead_legato=2.0,
        pad_programs=(91, 49), drum_kits=(), drum_patterns=(), drum_chance=0.0,
        swing=0.5, swing_unit=8, humanize_ms=8.0, dynamics=("soft", "moderate"), reverb=110,
        moods=("calm", "dreamy", "floating", "serene", "spacious", "meditative"),
    ),
    Style(
        name="lo-fi hip hop", tempo=(70, 92), meters=(4,), modes=("dorian", "minor", "major"),
        progressions=JAZZ + ((0, 3), (3, 2, 1, 0)), beats_per_chord=(4, 8),
        voicing="seventh", chord_programs=(4, 5, 0, 26),
        chord_patterns=("x.........x.....", "x.......x.......", "x...........x..."),
        chord_legato=0.9, chord_broken=(),
        bass_programs=(33, 32, 35), bass_patterns=("R.......R.....F.", "R.....R...R.....", "R.........S....A"),
        bass_legato=0.7,
        lead_programs=(11, 12, 73, 27), lead="melody", lead_density=(0.15, 0.3),
        lead_register=(64, 84), lead_legato=0.8,
        pad_programs=(), drum_kits=(0, 8),
        drum_patterns=({gm.KICK: "X......x..X.....", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "x.xox.x.x.xox.x."},
                       {gm.KICK: "X.........Xx....", gm.SIDE_STICK: "....x.......x...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.xo"}),
        drum_chance=0.95, swing=0.6, swing_unit=16, humanize_ms=7.0, dynamics=("soft", "moderate"),
        reverb=50, moods=("mellow", "nostalgic", "relaxed", "warm", "dusty", "laid-back"),
    ),
    Style(
        name="house", tempo=(118, 128), meters=(4,), modes=("minor", "dorian", "major"),
        progressions=MINOR_LOOPS + VAMPS, beats_per_chord=(4, 8),
        voicing="seventh", chord_programs=(0, 4, 90, 16),
        chord_patterns=("..x..x....x..x..", "...x..x....x..x.", "x.....x...x....."),
        chord_legato=0.35, chord_broken=(),
        bass_programs=(38, 39, 33), bass_patterns=("..R...R...R...R.", "..RR..RO..RR..R.", "R..RR..RR..RR..R"),
        bass_legato=0.6,
        lead_programs=(81, 80, 5, 11), lead="arpeggio", lead_density=(0.6, 1.0),
        lead_register=(65, 89), lead_legato=0.6,
        pad_programs=(89, 90), drum_kits=(24, 25, 0),
        drum_patterns=(FOUR_ON_FLOOR,
                       {gm.KICK: "X...X...X...X...", gm.CLAP: "....x.......x...",
                        gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo", gm.SHAKER: "..o...o...o...o."}),
        drum_chance=1.0, swing=0.5, swing_unit=16, humanize_ms=0.0, dynamics=("moderate", "loud"),
        reverb=35, moods=("energetic", "uplifting", "groovy", "hypnotic", "danceable"),
    ),
    Style(
        name="rock", tempo=(96, 150), meters=(4,), modes=("major", "mixolydian", "minor"),
        progressions=POP + ((0, 6, 3, 0), (0, 2, 3, 3)), beats_per_chord=(4, 2),
        voicing="power", chord_programs=(30, 29),
        chord_patterns=("x.x.x.x.x.x.x.x.", "X..x..x.X..x..x.", "x...x...x...x..."),
        chord_legato=0.9, chord_broken=(),
        bass_programs=(34, 33), bass_patterns=("R.R.R.R.R.R.R.R.", "R...R...R..RR.R."),
        bass_legato=0.85,
        lead_programs=(29, 30, 18), lead="melody", lead_density=(0.2, 0.4),
        lead_register=(62, 84), lead_legato=0.9,
        pad_programs=(18,), drum_kits=(16, 0, 8),
        drum_patterns=(ROCK_BEAT,
                       {gm.KICK: "X.x.....X.x.....", gm.SNARE: "....X.......X..o", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                       {gm.KICK: "X.......X.x.....", gm.SNARE: "....X.......X...", gm.RIDE: "x.x.x.x.x.x.x.x."}),
        drum_chance=1.0, swing=0.5, swing_unit=8, humanize_ms=5.0, dynamics=("moderate", "loud"),
        reverb=40, moods=("driving", "gritty", "powerful", "raw", "anthemic"),
    ),
    Style(
        name="jazz trio", tempo=(100, 190), meters=(4,), modes=("major", "dorian"),
        progressions=JAZZ, beats_per_chord=(4, 2),
        voicing="seventh", chord_programs=(0, 26, 4),
        chord_patterns=("x.....x.....x...", "...x......x.....", "x.......x..x....", "..x.....x......."),
        chord_legato=0.6, chord_broken=(),
        bass_programs=(32,), bass_patterns=("R...S...F...A...", "R...T...F...A...", "R...O...F...A..."),
        bass_legato=0.9,
        lead_programs=(0, 11, 65, 66, 56), lead="melody", lead_density=(0.25, 0.45),
        lead_register=(62, 86), lead_legato=0.85,
        pad_programs=(), drum_kits=(40, 32),
        drum_patterns=({gm.RIDE: "x...x.x.x...x.x.", gm.PEDAL_HAT: "....x.......x...", gm.KICK: "o.......o......."},
                       {gm.RIDE: "x...x.xox...x.x.", gm.PEDAL_HAT: "....x.......x...", gm.SNARE: "......o.......o."}),
        drum_chance=0.9, swing=0.64, swing_unit=8, humanize_ms=8.0, dynamics=("soft", "moderate"),
        reverb=55, moods=("smooth", "sophisticated", "warm", "swinging", "late-night"),
    ),
    Style(
        name="bossa nova", tempo=(118, 146), meters=(4,), modes=("major", "dorian"),
        progressions=JAZZ + ((0, 1), (0, 3, 1, 4)), beats_per_chord=(8, 4),
        voicing="seventh", chord_programs=(24, 25),
        chord_patterns=("x..x..x...x..x..", "x..x..x..x..x..."), chord_legato=0.7, chord_broken=(),
        bass_programs=(32, 33), bass_patterns=("R.....F.R.....F.", "R..F..F.R..F..F."),
        bass_legato=0.8,
        lead_programs=(73, 66, 65, 11), lead="melody", lead_density=(0.2, 0.35),
        lead_register=(64, 86), lead_legato=0.85,
        pad_programs=(48,), drum_kits=(0, 40),
        drum_patterns=({gm.SIDE_STICK: "x..x..x...x..x..", gm.KICK: "X..xX..xX..xX..x", gm.SHAKER: "xoxoxoxoxoxoxoxo"},
                       {gm.SIDE_STICK: "x..x...x..x..x..", gm.KICK: "X.......X.......", gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo"}),
        drum_chance=0.85, swing=0.5, swing_unit=8, humanize_ms=6.0, dynamics=("soft", "moderate"),
        reverb=50, moods=("breezy", "gentle", "sunny", "elegant", "relaxed"),
    ),
    Style(
        name="classical", tempo=(60, 126), meters=(4, 3), modes=("major", "minor", "harmonic minor"),
        progressions=POP + ((0, 3, 4, 0), (0, 1, 4, 0), (0, 5, 1, 4)), beats_per_chord=(4, 2),
        voicing="triad", chord_programs=(0, 0, 0, 6, 46),
        chord_patterns=("x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx"), chord_legato=1.2,
        chord_broken=(0, 2, 1, 2),
        bass_programs=(), bass_patterns=(), bass_legato=1.0,
        lead_programs=(0, 40, 73, 68, 71), lead="melody", lead_density=(0.2, 0.4),
        lead_register=(62, 88), lead_legato=0.95,
        pad_programs=(48, 42), drum_kits=(), drum_patterns=(), drum_chance=0.0,
        swing=0.5, swing_unit=8, humanize_ms=10.0, dynamics=("soft", "moderate", "loud"), reverb=70,
        moods=("elegant", "expressive", "tender", "romantic", "melancholic", "graceful"),
    ),
    Style(
        name="synthwave", tempo=(84, 118), meters=(4,), modes=("minor", "dorian"),
        progressions=MINOR_LOOPS, beats_per_chord=(4, 8),
        voicing="triad", chord_programs=(90, 50, 62),
        chord_patterns=("", "x.......x......."), chord_legato=1.0, chord_broken=(),
        bass_programs=(38, 39), bass_patterns=("RRRRRRRRRRRRRRRR", "R.R.R.R.R.R.R.R.", "R.RRR.RRR.RRR.RO"),
        bass_legato=0.7,
        lead_programs=(81, 80, 62), lead="arpeggio", lead_density=(0.8, 1.0),
        lead_register=(60, 84), lead_legato=0.7,
        pad_programs=(95, 89), drum_kits=(24, 25),
        drum_patterns=({gm.KICK: "X...X...X...X...", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                       {gm.KICK: "X......xX.......", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "xxxxxxxxxxxxxxxx"}),
        drum_chance=0.95, swing=0.5, swing_unit=8, humanize_ms=0.0, dynamics=("moderate", "loud"),
        reverb=70, moods=("retro", "nostalgic", "neon", "nocturnal", "cinematic"),
    ),
    Style(
        name="funk", tempo=(94, 116), meters=(4,), modes=("dorian", "mixolydian"),
        progressions=VAMPS + ((0, 3, 0, 4),), beats_per_chord=(8, 4),
        voicing="seventh", chord_programs=(7, 28, 27, 4),
        chord_patterns=("x..x..x...x.x...", ".x.x.x..x.x..x.x", "X...x.x...x.x..x"), chord_legato=0.3,
        chord_broken=(),
        bass_programs=(36, 33), bass_patterns=("R..R..O...R.R..S", "R.RO..R...R.O.RA", "R...R.OR..R..F.."),
        bass_legato=0.5,
        lead_programs=(61, 56, 66, 62), lead="melody", lead_density=(0.2, 0.35),
        lead_register=(62, 84), lead_legato=0.5,
        pad_programs=(16,), drum_kits=(0, 8),
        drum_patterns=({gm.KICK: "X..x..x...X..x..", gm.SNARE: "....X..o.o..X..o", gm.CLOSED_HAT: "xoxoxoxoxoxoxoxo"},
                       {gm.KICK: "X.x...x..xX.....", gm.SNARE: "....X.o.....X.o.", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x.",
                        gm.TAMBOURINE: "....x.......x..."}),
        drum_chance=1.0, swing=0.54, swing_unit=16, humanize_ms=4.0, dynamics=("moderate", "loud"),
        reverb=30, moods=("funky", "tight", "groovy", "bouncy", "sassy"),
    ),
    Style(
        name="chiptune", tempo=(128, 172), meters=(4,), modes=("major", "minor"),
        progressions=POP + MINOR_LOOPS, beats_per_chord=(4, 8),
        voicing="triad", chord_programs=(80,),
        chord_patterns=("x.x.x.x.x.x.x.x.", "x...x...x...x..."), chord_legato=0.5, chord_broken=(0, 1, 2, 1),
        bass_programs=(81, 38), bass_patterns=("R.O.R.O.R.O.R.O.", "R.R.R.R.F.F.O.O."), bass_legato=0.6,
        lead_programs=(80, 81), lead="melody", lead_density=(0.35, 0.55),
        lead_register=(69, 93), lead_legato=0.75,
        pad_programs=(), drum_kits=(24, 25),
        drum_patterns=({gm.KICK: "X.......X.x.....", gm.SNARE: "....X.......X...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                       {gm.KICK: "X...X...X...X...", gm.SNARE: "....X.......X..x", gm.CLOSED_HAT: "xxxxxxxxxxxxxxxx"}),
        drum_chance=0.9, swing=0.5, swing_unit=8, humanize_ms=0.0, dynamics=("moderate", "loud"),
        reverb=10, moods=("playful", "bouncy", "retro", "cheerful", "adventurous"),
    ),
    Style(
        name="reggae", tempo=(66, 92), meters=(4,), modes=("major", "minor", "dorian"),
        progressions=POP + VAMPS, beats_per_chord=(4, 8),
        voicing="triad", chord_programs=(16, 27, 17),
        chord_patterns=("....x.......x...", "..x...x...x...x."), chord_legato=0.35, chord_broken=(),
        bass_programs=(33, 35), bass_patterns=("R.....R.F...R...", "R..R....O..F.R.."), bass_legato=0.8,
        lead_programs=(22, 56, 21, 73), lead="melody", lead_density=(0.15, 0.3),
        lead_register=(62, 82), lead_legato=0.8,
        pad_programs=(), drum_kits=(0, 8),
        drum_patterns=({gm.KICK: "........X.......", gm.SIDE_STICK: "........x.......", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                       {gm.KICK: "X.......X.......", gm.SNARE: "........X.......", gm.CLOSED_HAT: "x.xox.xox.xox.xo"}),
        drum_chance=1.0, swing=0.58, swing_unit=8, humanize_ms=5.0, dynamics=("moderate",),
        reverb=45, moods=("laid-back", "sunny", "easygoing", "warm", "uplifting"),
    ),
    Style(
        name="cinematic orchestral", tempo=(64, 110), meters=(4, 3), modes=("minor", "harmonic minor", "major"),
        progressions=MINOR_LOOPS + ((0, 5, 3, 4),), beats_per_chord=(4, 8),
        voicing="open", chord_programs=(48, 49, 61, 60),
        chord_patterns=("", "x.x.x.x.x.x.x.x."), chord_legato=1.0, chord_broken=(),
        bass_programs=(42, 32), bass_patterns=("", "R...R...R...R..."), bass_legato=1.0,
        lead_programs=(40, 60, 73, 56, 52), lead="melody", lead_density=(0.1, 0.25),
        lead_register=(60, 84), lead_legato=1.0,
        pad_programs=(52, 49), drum_kits=(48,),
        drum_patterns=({gm.LOW_TOM: "X.....x.X.......", gm.MID_TOM: "........x.x.x...", gm.CRASH: "x..............."},
                       {gm.LOW_TOM: "X..x..x.X..x..x.", gm.SNARE: "....x.......x..."}),
        drum_chance=0.6, swing=0.5, swing_unit=8, humanize_ms=6.0, dynamics=("soft", "moderate", "loud"),
        reverb=90, moods=("epic", "dramatic", "majestic", "brooding", "heroic", "tense"),
    ),
)


def _check(style):
    """A typo in a style would surface as a strange clip; refuse it at import instead."""
    for program in style.chord_programs + style.bass_programs + style.lead_programs + style.pad_programs:
        if program not in gm.PROGRAM_NAMES:
            raise ValueError(f"style {style.name!r}: program {program} has no name in gm.PROGRAM_NAMES")
    for kit in style.drum_kits:
        if kit not in gm.DRUM_KIT_NAMES:
            raise ValueError(f"style {style.name!r}: drum kit {kit} has no name in gm.DRUM_KIT_NAMES")
    if bool(style.drum_kits) != bool(style.drum_patterns) or (style.drum_chance > 0) != bool(style.drum_kits):
        raise ValueError(f"style {style.name!r}: drum kits, patterns and chance disagree")
    if bool(style.bass_programs) != bool(style.bass_patterns):
        raise ValueError(f"style {style.name!r}: bass programs and patterns disagree")
    for mode in style.modes:
        if mode not in MODES:
            raise ValueError(f"style {style.name!r}: unknown mode {mode!r}")
    for dynamic in style.dynamics:
        if dynamic not in DYNAMICS:
            raise ValueError(f"style {style.name!r}: unknown dynamic {dynamic!r}")
    if style.lead not in ("melody", "arpeggio") or style.voicing not in ("triad", "seventh", "power", "open"):
        raise ValueError(f"style {style.name!r}: unknown lead {style.lead!r} or voicing {style.voicing!r}")


for _style in STYLES:
    _check(_style)

NAMES = tuple(style.name for style in STYLES)
