#!/usr/bin/env python3
"""continuo under systemd's notification protocol, with this test as the service manager:
READY=1 once playing, WATCHDOG=1 every WATCHDOG_USEC/2 while the audio thread and the
generator both make progress, none while the JACK server (hence the process callback) is
stopped, pings again when it resumes, STOPPING=1 on the way out."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

WATCHDOG_USEC = 400_000  # pings every 200 ms


def notifications(sock, seconds):
    """Every datagram received within `seconds`."""
    got, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
    return got


def verify_unit():
    """systemd/continuo.service parses (systemd-analyze verify), run against the built binary."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("note: no systemd-analyze here; the unit file is not verified", flush=True)
        return
    text = open(os.path.join(jf.REPO, "systemd", "continuo.service")).read()
    tmp = jf.tmpdir("systemd_unit")
    unit = os.path.join(tmp, "continuo.service")
    with open(unit, "w") as f:  # the user unit's paths, made absolute for an offline check
        f.write(text.replace("ExecStart=continuo", "ExecStart=" + os.path.abspath(jf.CONTINUO))
                    .replace("%h/.config/continuo", tmp))
    result = subprocess.run([analyze, "verify", unit], capture_output=True, text=True)
    if result.returncode != 0:
        jf.fail(f"systemd-analyze verify: {result.stdout}{result.stderr}")
    print("systemd/continuo.service verifies", flush=True)


def main():
    verify_unit()
    with jf.JackServer("systemd") as server:
        server.start()
        path = os.path.join(server.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        server.env = dict(server.env, NOTIFY_SOCKET=path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        continuo = jf.Continuo(server, ["--model", "double:counter"]).start()
        first = notifications(sock, 10.0)
        if not first or not first[0].startswith("READY=1\nSTATUS=playing double:counter"):
            jf.fail(f"expected READY=1 first, got {first[:3]}\n{continuo.stderr()}")
        pings = notifications(sock, 2.0).count("WATCHDOG=1")
        print(f"playing: {pings} watchdog pings in 2 s", flush=True)
        if pings < 5:
            jf.fail(f"only {pings} pings in 2 s at a 200 ms interval")
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            notifications(sock, 0.5)  # a ping already on its way
            stalled = notifications(sock, 2.0).count("WATCHDOG=1")
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        print(f"jackd stopped: {stalled} pings in 2 s", flush=True)
        if stalled != 0:
            jf.fail(f"{stalled} watchdog pings while the process callback could not run")
        resumed = notifications(sock, 3.0).count("WATCHDOG=1")
        print(f"jackd resumed: {resumed} pings in 3 s", flush=True)
        if resumed < 3:
            jf.fail(f"pings did not resume: {resumed} in 3 s")
        continuo.stop_checked()
        if "STOPPING=1" not in notifications(sock, 2.0):
            jf.fail("no STOPPING=1 at exit")


if __name__ == "__main__":
    jf.run_test(main)
