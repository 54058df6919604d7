"""`make run`'s script on a machine with no JACK server and no sound card: it starts a
private jackd with the dummy backend, says so, plays the engine on it, and on Ctrl-C
stops both."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

RUN_SCRIPT = os.path.join(jf.REPO, "tools", "run.sh")


def main():
    server = jf.JackServer("makerun")  # only its unique name and tools: run.sh starts jackd
    # -S as jackfixture's own servers (JackServer.command): a late cycle must not run continuo
    # without the recorder, or the recording loses a period continuo did play.
    env = dict(server.env, CONTINUO=jf.CONTINUO, CONTINUO_JACKD_BACKEND="dummy", CONTINUO_JACKD_OPTIONS="-S")
    out_path = os.path.join(server.dir, "run.out")
    with open(out_path, "wb") as out:
        script = subprocess.Popen([RUN_SCRIPT, "--model", "double:counter", "--set", "jack.auto_connect=false"],
                                  env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        server.wait_ports(["continuo:out_l", "continuo:out_r"], timeout=30.0, proc=script)
        rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], 1)
        print(f"recording: {jf.check_counter(left, right, max_lead_frames=rate)}")
    finally:
        os.killpg(script.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        rc = script.wait(timeout=30)
    with open(out_path, "rb") as f:
        output = f.read().decode(errors="replace")
    print(output)
    if rc != 0:
        jf.fail(f"run.sh exited with {rc}")
    if "dummy backend" not in output:
        jf.fail("run.sh did not tell the user it started a dummy-backend jackd")
    jf.wait_until(lambda: not server.running(), 10.0, what="the private jackd to stop with the script")


if __name__ == "__main__":
    jf.run_test(main)
