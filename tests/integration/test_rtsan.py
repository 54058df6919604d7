"""continuo-rtsan (the engine linked with clang's RealtimeSanitizer) plays at period 64,
first steadily, then through OSC resets (playback fades out and drops the lookahead), then
with a model too slow to keep up (underruns, fades), without a single real-time violation in the process callback
(which also copies the JACK inputs into the capture ring every period: input.capture_seconds is on by default); and rtsan_probe, which allocates
inside continuo::RealtimeScope, is caught, proving the checker can fail."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

VIOLATION = "Real-time violation"
STEADY_FRAMES = int(2.5 * 48000)
MIN_UNDERRUNS = 2


def check_probe():
    probe = os.path.join(os.path.dirname(jf.CONTINUO_RTSAN), "rtsan_probe")
    jf.require_binary(probe, "rtsan_probe")
    result = subprocess.run([probe], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    output = (result.stdout + result.stderr).decode(errors="replace")
    print(f"rtsan_probe exited with {result.returncode}:\n{output.strip()[:2000]}")
    if result.returncode == 0 or VIOLATION not in output:
        jf.fail(f"rtsan_probe allocated inside RealtimeScope without being caught "
                f"(exit {result.returncode}): the real-time checker is not working")


def run_phase(server, model, label, until, what, during=None):
    port = osc.free_udp_port()
    continuo = jf.Continuo(server, ["--model", model, "--auto-connect", "--set", f"osc.port={port}"],
                           binary=jf.CONTINUO_RTSAN, client=f"continuo{label}").start()
    if during is not None:
        during(osc.Client(port))
    status_seen = continuo.wait_status(until, timeout=90.0, what=what)
    rc, status, text = continuo.stop()
    print(f"{label}: exit {rc}, status while running {status_seen}, at exit {status}", flush=True)
    if VIOLATION in text:
        jf.fail(f"{label}: continuo-rtsan reported a real-time violation:\n{text}")
    if rc != 0:
        jf.fail(f"{label}: continuo-rtsan exited with {rc} after SIGTERM, expected 0:\n{text}")
    if status is None:
        jf.fail(f"{label}: no status line at exit:\n{text}")
    return status


def main():
    if not jf.CONTINUO_RTSAN:
        jf.fail("continuo-rtsan was not built: clang's RealtimeSanitizer runtime is missing. "
                "Run 'make deps' (installs clang-19 and libclang-rt-19-dev), then reconfigure: "
                "rm -rf build && make build")
    jf.require_binary(jf.CONTINUO_RTSAN, "continuo-rtsan")
    check_probe()

    with jf.JackServer("rtsan", period=64) as server:
        server.start()
        steady = run_phase(server, "double:counter", "steady",
                           lambda s: s["frames_played"] >= STEADY_FRAMES,
                           f"{STEADY_FRAMES} frames played")
        if steady["frames_played"] <= 0:
            jf.fail(f"steady: no frames played: {steady}")
        def resets(client):
            for n in range(5):
                jf.wait_until(lambda: client.status()["ring_fill_ms"] > 150, 10, what="a full lookahead")
                client.expect_done("/continuo/reset")
                jf.wait_until(lambda: client.status()["resets_heard"] > n, 10, what=f"reset {n + 1} heard")

        reset = run_phase(server, "double:counter", "reset", lambda s: s["resets_heard"] >= 5, "5 resets heard",
                          during=resets)
        if reset["underruns"] != 0:
            jf.fail(f"resets counted as underruns: {reset}")
        slow = run_phase(server, "double:counter,delay_ms=60", "underrun",
                         lambda s: s["underruns"] >= MIN_UNDERRUNS and s["frames_played"] > 0,
                         f"{MIN_UNDERRUNS} underruns")
        if slow["frames_played"] <= 0 or slow["underruns"] <= 0:
            jf.fail(f"underrun phase did not play and underrun: {slow}")
        print(f"steady: frames_played {steady['frames_played']}, underruns {steady['underruns']}; "
              f"slow model: frames_played {slow['frames_played']}, underruns {slow['underruns']}")


if __name__ == "__main__":
    jf.run_test(main)
