"""General MIDI numbers the composer uses and the words captions use for them.

Programs are 0-based (the byte in a program change). Only the programs and kits the styles
use are named: a style naming another one fails at import (styles.py checks), so a caption
never says "program 87".
"""

DRUM_CHANNEL = 9  # MIDI channel 10: GM percussion

# GM percussion keys (channel 10).
KICK = 36
SIDE_STICK = 37
SNARE = 38
CLAP = 39
LOW_TOM = 45
CLOSED_HAT = 42
PEDAL_HAT = 44
OPEN_HAT = 46
MID_TOM = 47
HIGH_TOM = 50
CRASH = 49
RIDE = 51
TAMBOURINE = 54
COWBELL = 56
HIGH_CONGA = 62
LOW_CONGA = 64
SHAKER = 70  # maracas
CLAVES = 75

PROGRAM_NAMES = {
    0: "grand piano",
    1: "bright piano",
    4: "electric piano",
    5: "FM electric piano",
    6: "harpsichord",
    7: "clavinet",
    8: "celesta",
    9: "glockenspiel",
    10: "music box",
    11: "vibraphone",
    12: "marimba",
    16: "organ",
    17: "percussive organ",
    18: "rock organ",
    21: "accordion",
    22: "harmonica",
    24: "nylon guitar",
    25: "acoustic guitar",
    26: "jazz guitar",
    27: "clean electric guitar",
    28: "muted guitar",
    29: "overdriven guitar",
    30: "distorted guitar",
    32: "upright bass",
    33: "electric bass",
    34: "picked bass",
    35: "fretless bass",
    36: "slap bass",
    38: "synth bass",
    39: "analog synth bass",
    40: "violin",
    42: "cello",
    46: "harp",
    48: "strings",
    49: "slow strings",
    50: "synth strings",
    52: "choir",
    56: "trumpet",
    57: "trombone",
    60: "french horn",
    61: "brass section",
    62: "synth brass",
    65: "alto sax",
    66: "tenor sax",
    68: "oboe",
    71: "clarinet",
    73: "flute",
    75: "pan flute",
    80: "square lead",
    81: "sawtooth lead",
    88: "new age pad",
    89: "warm pad",
    90: "polysynth pad",
    91: "choir pad",
    92: "bowed pad",
    94: "halo pad",
    95: "sweep pad",
}

# Drum kits are program changes on channel 10 (bank 128 in FluidSynth's soundfonts).
DRUM_KIT_NAMES = {
    0: "drums",
    8: "room drums",
    16: "rock drums",
    24: "electronic drums",
    25: "808 drums",
    32: "jazz drums",
    40: "brushed drums",
    48: "orchestral percussion",
}
