"""A caption per clip, in one of several phrasings, so that the text tower learns what the
words mean rather than one sentence shape. Every caption names the style; the longer ones
add the instruments heard in the clip, tempo words and bpm, mood, dynamics, key and mode.
"""

from data import gm

KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TEMPO_WORDS = ((85, ("slow", "slow-paced", "unhurried")),
               (125, ("medium tempo", "mid-tempo", "moderate tempo")),
               (1000, ("fast", "fast-paced", "uptempo")))
DYNAMIC_WORDS = {"soft": ("soft", "quiet", "gentle"), "moderate": ("moderately loud", "balanced"),
                 "loud": ("loud", "punchy", "intense")}

PHRASINGS = (
    "{style}, {instruments}, {tempo} at {bpm} bpm, {mood1} and {mood2}, in {key}",
    "{a_mood1} {mood1}, {mood2} {style} piece with {instruments}, {bpm} BPM in {key}",
    "{Mood1} {style}: {instruments}. {Tempo}, {bpm} bpm, {dynamic}.",
    "{style} track in {key} at {bpm} bpm featuring {instruments}; {mood1}, {mood2}",
    "{instruments} playing {mood1} {style}, {tempo}",
    "{Dynamic} and {mood1} {style} with {instruments}, {tempo} ({bpm} bpm)",
    "{mood1} {style}",
    "{style}",
)


def _article(word):
    return "an" if word[0] in "aeiou" else "a"


def _join(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def instruments_heard(piece, start, samples, drums):
    """Caption words for the parts that sound in the window [start, start + samples) of
    the piece; `drums` is the window's drum flags."""
    names = []
    for channel in sorted(piece.programs):
        if channel == gm.DRUM_CHANNEL:
            continue
        sounding = any(n.channel == channel and n.end > start and n.start < start + samples for n in piece.notes)
        name = gm.PROGRAM_NAMES[piece.programs[channel]]
        if sounding and name not in names:
            names.append(name)
    if drums.any():
        names.append(gm.DRUM_KIT_NAMES[piece.programs[gm.DRUM_CHANNEL]])
    return names


def caption(piece, instruments, rng):
    """One caption of the clip; `instruments` from instruments_heard."""
    tempo = next(words for limit, words in TEMPO_WORDS if piece.bpm < limit)
    tempo = str(rng.choice(tempo))
    dynamic = str(rng.choice(DYNAMIC_WORDS[piece.dynamic]))
    mood1, mood2 = piece.moods
    heard = [str(name) for name in rng.permutation(instruments)] if instruments else ["silence"]
    key = f"{KEY_NAMES[piece.key]} {piece.mode}"
    if piece.beats_per_bar == 3:
        key += ", 3/4 time"
    phrasing = PHRASINGS[rng.integers(len(PHRASINGS))]
    return phrasing.format(style=piece.style.name, instruments=_join(heard), tempo=tempo,
                           Tempo=tempo[0].upper() + tempo[1:], bpm=piece.bpm, mood1=mood1,
                           Mood1=mood1[0].upper() + mood1[1:], mood2=mood2, a_mood1=_article(mood1).capitalize(),
                           key=key, dynamic=dynamic, Dynamic=dynamic[0].upper() + dynamic[1:])
