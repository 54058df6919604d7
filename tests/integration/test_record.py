"""Nothing lost (issue 7): the session recorder and `continuo replay`, against a running
continuo on a private jackd, steered by a real OSC client.

1. The tiny MRT2 package (it answers to its controls): a take started and stopped over
   OSC while temperature, notes, style tokens and a reset change the music; `continuo
   replay` of its journal gives the recording sample for sample, and the same journal
   without its control lines does not (so the controls were recorded and mattered).
2. A second take started mid-session, then `kill -9` of the engine: the audio file opens
   with libsndfile, the journal parses, and replay equals every frame the file holds.
3. double:counter with `continuo run --record DIR`: the take starts at frame 0, and the
   journal's reset line falls exactly where the counter starts again in the audio.
"""

import ctypes
import os
import signal
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

PACKAGE = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")
COUNTER_FRAME = 1920


class SfInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def read_sndfile(path):
    """(rate, float32 array of shape (frames, 2)) through libsndfile itself."""
    lib = ctypes.CDLL("libsndfile.so.1")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    lib.sf_readf_float.restype = ctypes.c_int64
    lib.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_strerror.restype = ctypes.c_char_p
    lib.sf_strerror.argtypes = [ctypes.c_void_p]
    info = SfInfo()
    handle = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))  # SFM_READ
    if not handle:
        jf.fail(f"libsndfile cannot open {path}: {lib.sf_strerror(None).decode()}")
    blocks = []
    while True:
        block = np.zeros((65536, info.channels), dtype=np.float32)
        got = lib.sf_readf_float(handle, block.ctypes.data, 65536)
        if got <= 0:
            break
        blocks.append(block[:got])
    lib.sf_close(handle)
    if info.channels != 2:
        jf.fail(f"{path}: {info.channels} channels, expected 2")
    return info.samplerate, np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)


def journal_events(path):
    """The event lines of a journal, as (frame, kind, rest) tuples."""
    events = []
    with open(path) as f:
        for line in f:
            if line[:1].isdigit() and line.endswith("\n"):
                frame, kind, *rest = line.rstrip("\n").split(" ", 2)
                events.append((int(frame), kind, rest[0] if rest else ""))
    return events


def replay(journal, out):
    result = jf.run_cli(["replay", journal, "--out", out], timeout=240)
    if result.returncode != 0:
        jf.fail(f"replay failed:\n{result}")
    return result


def require_identical(recorded, replayed, what, whole=True):
    if whole and len(recorded) != len(replayed):
        jf.fail(f"{what}: the recording has {len(recorded)} frames, the replay {len(replayed)}")
    n = min(len(recorded), len(replayed))
    a = recorded[:n].view(np.uint32)
    b = replayed[:n].view(np.uint32)
    if not np.array_equal(a, b):
        first = int(np.argmax(np.any(a != b, axis=1)))
        jf.fail(f"{what}: first difference at frame {first} of {n}: {recorded[first]} vs {replayed[first]}")
    return n


def record_reply(client, on):
    reply = client.ask("/continuo/record", on)
    if reply[0] != "/done" or reply[2][0] != "/continuo/record" or len(reply[2]) != 3:
        jf.fail(f"/continuo/record {on}: expected /done /continuo/record <audio> <journal>, got {reply}")
    return reply[2][1], reply[2][2]


def steer(client):
    """Control changes the tiny model hears, and a reset, each well inside the take. (Its style
    vocabulary takes tokens up to 31.)"""
    time.sleep(0.6)
    client.expect_done("/continuo/temperature", 0.3)
    time.sleep(0.3)
    client.expect_done("/continuo/note", 60, 100)
    client.expect_done("/continuo/note", 67, 100)
    time.sleep(0.3)
    client.expect_done("/continuo/style/tokens", *[(i * 5) % 31 for i in range(12)])
    time.sleep(0.3)
    client.expect_done("/continuo/reset")
    time.sleep(0.3)
    client.expect_done("/continuo/topk", 3)
    client.expect_done("/continuo/note", 60, 0)
    time.sleep(0.4)


def without_controls(journal, out_journal, after_frame):
    """The journal with every control line after after_frame removed."""
    with open(journal) as f, open(out_journal, "w") as g:
        for line in f:
            parts = line.split(" ", 2)
            if parts[0].isdigit() and parts[1] == "set" and int(parts[0]) > after_frame:
                continue
            g.write(line)


def controlled_take(server, tmp):
    record_dir = os.path.join(tmp, "takes")
    continuo, client = osc.start(server, f"record.dir={record_dir}", model=PACKAGE)
    if client.status()["recording"] != 0:
        jf.fail("recording before /continuo/record 1")
    time.sleep(0.5)  # the take starts mid-session: its journal must carry the history before it
    audio, journal = record_reply(client, 1)
    if client.status()["recording"] != 1:
        jf.fail("status recording is not 1 during a take")
    osc.Client.expect_fail(client, "/continuo/record", (1,), "already recording")
    steer(client)
    if record_reply(client, 0) != (audio, journal):
        jf.fail("/continuo/record 0 named other files than the take's")
    osc.Client.expect_fail(client, "/continuo/record", (0,), "not recording")
    osc.Client.expect_fail(client, "/continuo/record", (2,), "record must be 1")

    events = journal_events(journal)
    kinds = [kind for _, kind, _ in events]
    changes = " ".join(rest for _, kind, rest in events if kind == "set")
    for needed in ("temperature=0.3", "notes=", "style_tokens=0,5,10", "top_k=3"):
        if needed not in changes:
            jf.fail(f"{journal}: no control line with {needed}: {events}")
    if kinds[0] != "reset" or kinds.count("reset") != 2 or "take" not in kinds or kinds[-1] != "end":
        jf.fail(f"{journal}: expected the session's reset, a take, the OSC reset and an end: {kinds}")
    take_frame = next(frame for frame, kind, _ in events if kind == "take")
    if take_frame == 0:
        jf.fail(f"{journal}: the take started at frame 0, not mid-session")

    rate, recorded = read_sndfile(audio)
    replayed_path = os.path.join(tmp, "replay.wav")
    replay(journal, replayed_path)
    replay_rate, replayed = read_sndfile(replayed_path)
    # The take's length is what the journal's end line counts, not the wall time steer() slept:
    # a host that lends the VM less CPU (xruns) generates fewer frames in those 2.2 s.
    end_frame, _, end_samples = events[-1]
    last_set = max(frame for frame, kind, _ in events if kind == "set")
    if (rate, replay_rate) != (48000, 48000) or len(recorded) != int(end_samples) or len(recorded) == 0:
        jf.fail(f"take {audio}: {len(recorded)} frames at {rate} Hz (its end line: {end_samples}), "
                f"replay at {replay_rate} Hz")
    if last_set >= end_frame:
        jf.fail(f"{journal}: the take ended at frame {end_frame}, before its last control (frame {last_set})")
    n = require_identical(recorded, replayed, "replay of the controlled take")
    print(f"take 1: {n} frames from frame {take_frame}, {len(events)} journal events, replay identical", flush=True)

    first_set = next(frame for frame, kind, _ in events if kind == "set" and frame > take_frame)
    bare = os.path.join(tmp, "bare.journal")
    without_controls(journal, bare, take_frame)
    bare_out = os.path.join(tmp, "bare.wav")
    replay(bare, bare_out)
    _, uncontrolled = read_sndfile(bare_out)
    if np.array_equal(recorded.view(np.uint32), uncontrolled.view(np.uint32)):
        jf.fail("the replay without the control lines is the same audio: the controls changed nothing")
    print(f"without its control lines (first at frame {first_set}) the replay differs", flush=True)
    return continuo, client


def killed_take(continuo, client, tmp):
    audio, journal = record_reply(client, 1)
    time.sleep(0.5)
    client.expect_done("/continuo/temperature", 1.7)
    client.expect_done("/continuo/note", 64, 100)
    time.sleep(0.8)
    client.expect_done("/continuo/drums", 1)
    time.sleep(1.5)  # past a sync line
    continuo.proc.send_signal(signal.SIGKILL)
    continuo.proc.wait()

    events = journal_events(journal)
    if [k for _, k, _ in events].count("end"):
        jf.fail(f"{journal}: an end line after kill -9")
    rate, recorded = read_sndfile(audio)
    out = os.path.join(tmp, "killed-replay.wav")
    result = replay(journal, out)
    _, replayed = read_sndfile(out)
    n = require_identical(recorded, replayed, "replay of the killed take", whole=False)
    # Nothing lost: at least everything the last sync line vouched for (fsynced) replays.
    synced = [int(rest) for _, kind, rest in events if kind == "sync"]
    if not synced or synced[-1] == 0 or n < synced[-1]:
        jf.fail(f"only {n} frames in common after kill -9, the last sync line vouched for {synced[-1:]} "
                f"(recording {len(recorded)}, replay {len(replayed)})")
    print(f"take 2, killed: recording {len(recorded)} frames, replay {len(replayed)}, {n} identical; "
          f"replay: {next(l for l in result.stderr.splitlines() if 'length from' in l)[24:]}", flush=True)


def counter_alignment(server, tmp):
    record_dir = os.path.join(tmp, "counter")
    continuo = jf.Continuo(server, ["--model", "double:counter", "--record", record_dir,
                                    "--set", f"osc.port={osc.free_udp_port()}"], client="counter").start()
    jf.wait_until(lambda: "recorder: recording" in continuo.stderr(), 10, what="the take's start")
    time.sleep(1.0)
    port = int(continuo.args[-1].split("=")[1])
    osc.Client(port).expect_done("/continuo/reset")
    time.sleep(0.7)
    continuo.stop_checked()
    journals = [f for f in os.listdir(record_dir) if f.endswith(".journal")]
    if len(journals) != 1:
        jf.fail(f"expected one journal in {record_dir}, found {journals}")
    journal = os.path.join(record_dir, journals[0])
    events = journal_events(journal)
    take = next(frame for frame, kind, _ in events if kind == "take")
    resets = [frame for frame, kind, _ in events if kind == "reset"]
    if take != 0 or len(resets) != 2 or resets[0] != 0:
        jf.fail(f"{journal}: expected a take from frame 0 and one reset after it: {events}")
    _, recorded = read_sndfile(os.path.join(record_dir, journals[0].replace(".journal", ".wav")))
    index = [jf.decode_index(float(l), float(r)) for l, r in recorded]
    at = resets[1] * COUNTER_FRAME
    expected = list(range(at)) + list(range(len(index) - at))
    if index != expected:
        wrong = next(i for i, (a, b) in enumerate(zip(index, expected)) if a != b)
        jf.fail(f"counter take: sample {wrong} holds index {index[wrong]}, expected {expected[wrong]} "
                f"(reset journaled at frame {resets[1]}, sample {at})")
    out = os.path.join(tmp, "counter-replay.wav")
    replay(journal, out)
    _, replayed = read_sndfile(out)
    require_identical(recorded, replayed, "replay of the counter take")
    print(f"counter take: {len(index)} samples, the reset at frame {resets[1]} is where the counter restarts", flush=True)


def main():
    tmp = jf.tmpdir("record")
    with jf.JackServer("record") as server:
        server.start()
        continuo, client = controlled_take(server, tmp)
        killed_take(continuo, client, tmp)
        counter_alignment(server, tmp)


if __name__ == "__main__":
    jf.run_test(main)
