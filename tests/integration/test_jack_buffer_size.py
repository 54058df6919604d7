"""continuo follows a JACK buffer-size change while playing (jack_bufsize 256 -> 64 ->
1024): the recording stays the counter sequence, bit-exact, and no underrun occurs."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402

PERIODS = (64, 1024)
RECORD_SECONDS = 2


def main():
    with jf.JackServer("bufsize", period=256) as server:
        server.start()
        continuo = jf.Continuo(server, ["--model", "double:counter", "--set", "jack.auto_connect=false"]).start()
        for period in PERIODS:
            server.tool(["jack_bufsize", str(period)])
            status = continuo.wait_status(lambda s, p=period: s["buffer_frames"] == p, 10.0, f"period {period}")
            rate, left, right = server.record(["continuo:out_l", "continuo:out_r"], RECORD_SECONDS,
                                              name=f"rec{period}")
            info = jf.check_counter(left, right, max_lead_frames=0, label=f"period {period}")
            print(f"period {period}: {info}; status {status}", flush=True)
        status, _ = continuo.stop_checked(signal.SIGTERM)
        print(f"status at exit: {status}")
        if status["underruns"] != 0:
            jf.fail(f"{status['underruns']} underruns across buffer-size changes")


if __name__ == "__main__":
    jf.run_test(main)
