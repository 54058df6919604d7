"""A minimal Standard MIDI File writer (format 0): program changes, controllers, notes; and the
reader of what it writes, for a synth that takes events rather than files.

The file's clock is one tick per sample at 48 kHz (4800 ticks per quarter note at 600
quarter notes a minute), so note times in samples go in unchanged and nothing is rounded
between the composer's labels and what FluidSynth plays.
"""

import struct

TICKS_PER_QUARTER = 4800
MICROSECONDS_PER_QUARTER = 100_000  # 4800 ticks per 0.1 s: a tick is 1/48000 s

# At one tick, controllers first, then note-offs, then note-ons: a note struck again at
# the instant the previous one ends is released and then struck, not the other way round.
_SETUP, _OFF, _ON = 0, 1, 2


def _variable_length(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(programs, controls, notes, length):
    """The file for `programs` {channel: program}, `controls` {channel: {cc: value}} (both
    at tick 0) and `notes` (compose.Note, times in samples), lasting at least `length`
    samples so that a player renders up to there even when the music has stopped."""
    events = [(0, _SETUP, b"\xff\x51\x03" + MICROSECONDS_PER_QUARTER.to_bytes(3, "big"))]
    for channel, program in sorted(programs.items()):
        events.append((0, _SETUP, bytes([0xC0 | channel, program])))
    for channel, values in sorted(controls.items()):
        for controller, value in sorted(values.items()):
            events.append((0, _SETUP, bytes([0xB0 | channel, controller, value])))
    for n in notes:
        if not (0 <= n.start < n.end and 1 <= n.velocity <= 127 and 0 <= n.pitch <= 127):
            raise ValueError(f"not a playable note: {n}")
        events.append((n.start, _ON, bytes([0x90 | n.channel, n.pitch, n.velocity])))
        events.append((n.end, _OFF, bytes([0x80 | n.channel, n.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))

    track = bytearray()
    now = 0
    for tick, _, data in events:
        track += _variable_length(tick - now) + data
        now = tick
    track += _variable_length(max(0, length - now)) + b"\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def events(data):
    """(tick, message bytes) of every channel message in a file midi_bytes wrote, in order
    (meta events skipped). ValueError for anything else: other formats, running status,
    system exclusive."""
    if data[:4] != b"MThd" or struct.unpack(">IHHH", data[4:14])[:3] != (6, 0, 1) or data[14:18] != b"MTrk":
        raise ValueError("not a format-0 file of one track")
    (length,) = struct.unpack(">I", data[18:22])
    track, i, tick, out = data[22:22 + length], 0, 0, []
    while i < len(track):
        delta = 0
        while True:
            byte = track[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        status = track[i]
        if status == 0xFF:  # meta: type, length (one byte here), data
            i += 3 + track[i + 2]
        elif 0x80 <= status < 0xF0:
            size = 2 if status >> 4 in (0xC, 0xD) else 3
            out.append((tick, bytes(track[i:i + size])))
            i += size
        else:
            raise ValueError(f"unexpected byte {status:#04x} at track offset {i}")
    return out
