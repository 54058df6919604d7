"""A model whose step throws, as a GPU backend does on a device error (the counter double
with fail_after=100,fail_for=2: steps 100 and 101 throw): the process lives and answers
/continuo/status throughout, the log and the /continuo/notify subscribers get the reason
once, the audio fades to silence, and after two retries (a model reset after each second
of silence) the counter plays again from a fresh start, faded in, bit-exact. The take
recorded meanwhile (record.on_start) holds exactly that: the counter, the two seconds of
silence generated, the counter from its start; and `continuo replay` of its journal (fail
and silence lines where the step threw) gives the take sample for sample."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402
import test_record as record  # noqa: E402

FAIL_AFTER = 100  # 4 s of 40 ms frames
LOOKAHEAD_MS = 300  # test_osc.start's
REASON = f"double: simulated device error at step {FAIL_AFTER} (fail_after={FAIL_AFTER})"
COUNTER_FRAME = 1920  # the double's frame at 48 kHz
RATE = 48000


def longest_silence(left, right):
    """(start, length) of the longest run of exact zeros."""
    best, start = (0, 0), None
    for i, (l, r) in enumerate(zip(left, right)):
        if l == 0.0 and r == 0.0:
            start = i if start is None else start
            if i + 1 - start > best[1]:
                best = (start, i + 1 - start)
        else:
            start = None
    return best


def counter_indexes(audio):
    return [jf.decode_index(float(l), float(r)) for l, r in audio]


def check_take_and_replay(record_dir, tmp):
    """The take: counter frames 0..FAIL_AFTER-1, a second of silence per failed step, then
    the counter from 0; its replay is the same, bit for bit."""
    journals = [f for f in os.listdir(record_dir) if f.endswith(".journal")]
    if len(journals) != 1:
        jf.fail(f"expected one journal in {record_dir}, found {journals}")
    journal = os.path.join(record_dir, journals[0])
    events = record.journal_events(journal)
    kinds = [kind for _, kind, _ in events]
    fails = [frame for frame, kind, _ in events if kind == "fail"]
    silence = sum(int(value) for _, kind, value in events if kind == "silence")
    if fails != [FAIL_AFTER, FAIL_AFTER] or silence != 2 * RATE or kinds.count("reset") != 3:
        jf.fail(f"{journal}: expected two fail lines at frame {FAIL_AFTER}, {2 * RATE} samples of silence "
                f"and a reset after each second of it: {[e for e in events if e[1] != 'set']}")
    _, recorded = record.read_sndfile(os.path.join(record_dir, journals[0].replace(".journal", ".wav")))
    failed_at = FAIL_AFTER * COUNTER_FRAME
    back_at = failed_at + 2 * RATE
    if counter_indexes(recorded[:failed_at]) != list(range(failed_at)):
        jf.fail("the take before the failure is not the counter from 0")
    if recorded[failed_at:back_at].any():
        jf.fail("the take does not hold two seconds of exact silence where the model failed")
    if counter_indexes(recorded[back_at:]) != list(range(len(recorded) - back_at)):
        jf.fail("the take after the recovery is not the counter from 0")
    out = os.path.join(tmp, "failure-replay.wav")
    record.replay(journal, out)
    _, replayed = record.read_sndfile(out)
    record.require_identical(recorded, replayed, "replay of the take with a failing model")
    print(f"take: {len(recorded)} samples, silence at {failed_at}..{back_at}; replay identical", flush=True)


def main():
    tmp = jf.tmpdir("failure")
    record_dir = os.path.join(tmp, "takes")
    with jf.JackServer("failure") as server:
        server.start()
        continuo, client = osc.start(server, f"record.dir={record_dir}", "record.on_start=true",
                                     model=f"double:counter,fail_after={FAIL_AFTER},fail_for=2")
        client.expect_done("/continuo/notify", 1)
        # 9 s of audio: 4 s of counter, silence while it fails, then the counter again.
        rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], 9, name="failure")

        osc.require_alive(continuo, "the model's failure")
        events = client.drain(0.3)
        status = client.status()  # still answers
        warnings = [e for e in events if e[0] == "/continuo/warning"]
        if len(warnings) != 1 or REASON not in warnings[0][2][0]:
            jf.fail(f"expected one /continuo/warning naming {REASON!r}, got {events}")
        if ("/continuo/model", "s", ["recovered: double:counter,fail_after=100,fail_for=2 plays again"]) not in events:
            jf.fail(f"no /continuo/model 'recovered' event: {events}")
        log = continuo.stderr()
        if log.count(f"generator: the model failed: {REASON}") != 1:
            jf.fail(f"the log should name the reason once:\n{log}")
        if status["underruns"] != 0:
            jf.fail(f"playback ran dry: {status}")

        # Two seconds of silence are generated (a failed retry, then the good one), less what
        # was still queued at the recovery and dropped: at most the lookahead and one frame.
        start, length = longest_silence(left, right)
        least = 2 * rate - (LOOKAHEAD_MS * rate // 1000 + 1920)
        if length < least:
            jf.fail(f"the longest silence is {length} frames at {start}, expected {least} or more")
        info = jf.check_counter(left[start:], right[start:], max_lead_frames=length + jf.FADE_FRAMES,
                                label="after the retries")
        if info["first_index"] > jf.FADE_FRAMES:
            jf.fail(f"the counter after recovery does not start afresh: {info}")
        # Before the silence: the counter, faded out rather than cut.
        before = [abs(v) for v in left[max(0, start - jf.FADE_FRAMES):start]]
        if not before or max(before[-8:]) > 0.05:
            jf.fail(f"the audio before the silence ends with a click: {left[start - 8:start]}")
        final, _ = continuo.stop_checked()
        if final["model_failures"] != 1 or final["frames_generated"] <= FAIL_AFTER:
            jf.fail(f"final status: {final}")
        print(f"silence {length / rate:.2f} s, then {info['consecutive_frames']} counter frames", flush=True)
    check_take_and_replay(record_dir, tmp)


if __name__ == "__main__":
    jf.run_test(main)
