#!/usr/bin/env python3
"""osc.rate_limit and osc.rate_burst against real UDP clients (issue 7, security): a
sender over its limit gets the burst answered and the rest of its messages dropped
unanswered, counted in the status (osc_rate_limited) and logged once; another sender
address has a bucket of its own; once the bucket refills the sender is answered again."""

import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

RATE = 100    # messages a second per sender
BURST = 20
SENT = 200    # in one bundle: handled at one instant, so exactly BURST pass
LOG_LINE = re.compile(r"dropped (\d+) message\(s\) unanswered over osc\.rate_limit")


def logged_drops(continuo):
    """The drop count of each rate-limit log line so far."""
    return [int(n) for n in LOG_LINE.findall(continuo.stderr())]


def client_from(address, port):
    """An OSC client whose packets come from `address` (another loopback address)."""
    client = osc.Client(port)
    client.sock.close()
    client.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.sock.bind((address, 0))
    return client


def over_the_limit(client):
    """Sends SENT temperature changes in one bundle; returns the /done replies heard."""
    client.send(osc.bundle([osc.message("/continuo/temperature", 0.5 + i / 1000.0) for i in range(SENT)]))
    replies = client.drain(1.0)
    other = [r for r in replies if r[0] != "/done" or r[2] != ["/continuo/temperature"]]
    if other:
        jf.fail(f"replies other than /done /continuo/temperature: {other[:3]}")
    return len(replies)


def main():
    with jf.JackServer("oscrate", period=256) as server:
        server.start()
        continuo, client = osc.start(server, f"osc.rate_limit={RATE}", f"osc.rate_burst={BURST}")
        done = over_the_limit(client)
        print(f"first sender: {done} of {SENT} answered", flush=True)
        if done != BURST:
            jf.fail(f"{done} of {SENT} messages in one bundle answered, expected the burst ({BURST})")
        jf.wait_until(lambda: logged_drops(continuo), 10, what="the rate-limit log line")
        if logged_drops(continuo)[0] != 1:
            jf.fail(f"the first drop should be told at once, alone: {logged_drops(continuo)}")

        second = client_from("127.0.0.2", client.target[1])
        done_second = over_the_limit(second)
        print(f"second sender (127.0.0.2): {done_second} of {SENT} answered", flush=True)
        if done_second != BURST:
            jf.fail(f"another address got {done_second} answers, expected a burst of its own ({BURST})")

        time.sleep(BURST / RATE + 0.1)  # the first sender's bucket refills
        status = client.status()
        print(f"status after the floods: osc_rate_limited {status['osc_rate_limited']}, "
              f"temperature {status['temperature']}", flush=True)
        if status["osc_rate_limited"] != 2 * (SENT - BURST):
            jf.fail(f"osc_rate_limited = {status['osc_rate_limited']}, expected {2 * (SENT - BURST)}")
        if abs(status["temperature"] - (0.5 + (BURST - 1) / 1000.0)) > 1e-6:
            jf.fail(f"temperature {status['temperature']}: the last message answered should have set it")
        # Drops not told yet are told once their second is up: every one, in few lines.
        jf.wait_until(lambda: sum(logged_drops(continuo)) == 2 * (SENT - BURST), 10,
                      what=f"log lines telling all {2 * (SENT - BURST)} drops")
        print(f"log lines told {logged_drops(continuo)} drops", flush=True)
        # Two floods, each told at its first drop and the rest a second later: not a line a drop.
        if len(logged_drops(continuo)) > 4:
            jf.fail(f"{2 * (SENT - BURST)} drops in two floods took {len(logged_drops(continuo))} log lines, "
                    f"expected at most 4:\n{continuo.stderr()}")
        client.expect_done("/continuo/temperature", 0.9)
        osc.require_alive(continuo, "the rate-limited floods")
        final, _ = continuo.stop_checked()
        print(f"status at exit: underruns {final['underruns']}", flush=True)


if __name__ == "__main__":
    jf.run_test(main)
