"""Shared fixture of continuo's integration tests (python3, stdlib only).

Starts a private dummy-driver jackd per test under a unique server name, runs continuo
and the jack_record listener against it, parses continuo's status line, decodes
recordings of the double:counter model, and kills every process it started when the
test ends, however it ends (finally blocks, atexit, SIGTERM, and PR_SET_PDEATHSIG so
that even a SIGKILLed test leaves no jackd behind).

Binaries come from the environment ctest sets (CONTINUO, CONTINUO_RTSAN, JACK_RECORD,
CONTINUO_SOURCE); run by hand, they default to build/... under the repository root.
"""

import array
import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.environ.get("CONTINUO_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, "build")
CONTINUO = os.environ.get("CONTINUO") or os.path.join(BUILD, "continuo")
JACK_RECORD = os.environ.get("JACK_RECORD") or os.path.join(BUILD, "tests", "jack_record")
if "CONTINUO_RTSAN" in os.environ:  # ctest sets it, empty when the rtsan runtime is missing
    CONTINUO_RTSAN = os.environ["CONTINUO_RTSAN"]
else:
    CONTINUO_RTSAN = os.path.join(BUILD, "continuo-rtsan")
    if not os.path.exists(CONTINUO_RTSAN):
        CONTINUO_RTSAN = ""

COUNTER_RATE = 48000
QUERY_SECONDS, QUERY_ATTEMPTS = 5.0, 3  # a stuck jack_lsp is asked again, not waited on
FADE_FRAMES = 480  # engine.fade_ms default 10 ms at 48 kHz

# ---------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is killed at exit.

_children = []
_tmpdirs = []
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _set_pdeathsig(sig=signal.SIGKILL):
    """Runs in the child before exec: die with the test process, even on SIGKILL."""
    if _prctl is not None:
        _prctl(1, int(sig))  # PR_SET_PDEATHSIG


def spawn(argv, env=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL, death_signal=signal.SIGKILL):
    """Popen that is tracked and ended with death_signal at exit, and when the test dies."""
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, stdin=stdin,
                            preexec_fn=lambda: _set_pdeathsig(death_signal))
    proc.death_signal = death_signal
    _children.append(proc)
    return proc


def kill_process(proc, sig=signal.SIGTERM, grace=5.0):
    """Sends sig, waits up to grace seconds, then SIGKILLs. Returns the exit status."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    return proc.wait()


def cleanup():
    while _children:
        proc = _children.pop()
        kill_process(proc, proc.death_signal, grace=5.0)
    while _tmpdirs:
        shutil.rmtree(_tmpdirs.pop(), ignore_errors=True)


def _on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def tmpdir(tag="continuo"):
    path = tempfile.mkdtemp(prefix=f"{tag}-")
    _tmpdirs.append(path)
    return path


def wait_until(condition, timeout, interval=0.02, what="condition"):
    """Polls condition() until it returns a truthy value; raises TimeoutError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


def require_binary(path, what):
    if not path or not os.path.exists(path):
        fail(f"{what} not found at '{path}': build it with 'make build' in {REPO}")


def fail(message):
    raise AssertionError(message)


class ToolTimeout(AssertionError):
    """A jack_* tool that did not finish: a failure, unless JackServer.query asks again."""


def run_test(main):
    """Runs a test's main(); prints the failure and exits non-zero on any exception."""
    try:
        main()
    except Exception as error:  # noqa: BLE001 - report everything, then fail
        import traceback
        traceback.print_exc()
        print(f"FAIL: {error}", flush=True)
        cleanup()
        sys.exit(1)
    cleanup()
    print("PASS", flush=True)
    sys.exit(0)


# ---------------------------------------------------------------------------------------
# A private JACK server.

_server_count = 0


class JackServer:
    """A dummy-driver jackd under a unique name; use as a context manager."""

    def __init__(self, tag, period=256, rate=48000, realtime=False):
        global _server_count
        _server_count += 1
        safe = re.sub(r"[^A-Za-z0-9]", "", tag)[:16]
        self.name = f"ct{safe}{os.getpid()}n{_server_count}"
        self.period = period
        self.rate = rate
        self.realtime = realtime
        self.env = dict(os.environ, JACK_DEFAULT_SERVER=self.name)
        self.dir = tmpdir(f"jack-{self.name}")
        self.proc = None
        self.starts = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def command(self):
        # -S (synchronous mode): each cycle waits for the whole graph, so when a loaded
        # machine makes a cycle late, every client still runs it in order. In the default
        # asynchronous mode a late cycle can run continuo but not the recorder after it,
        # and the recording loses a period that continuo did play (a JACK xrun, not an
        # engine fault), which would make the bit-exact checks flaky.
        # realtime: SCHED_FIFO for the server's and the clients' process threads, as an
        # installation runs (docs/installation.md); tests run without, as CI may not allow it.
        scheduling = ["-R", "-P", "70"] if self.realtime else ["--no-realtime"]
        return ["jackd", "-n", self.name, *scheduling, "-S", "-d", "dummy",
                "-r", str(self.rate), "-p", str(self.period)]

    def start(self, timeout=30.0):
        """Starts jackd and returns the monotonic time at which it was seen ready. The timeout is
        generous: on a loaded 2-core machine a (re)start has taken over 10 s."""
        self.starts += 1
        log = open(os.path.join(self.dir, f"jackd-{self.starts}.log"), "wb")
        # SIGTERM when the test dies: a jackd killed outright leaves its entry in JACK's
        # machine-wide table of 8 servers, reclaimed only by a server of the same name, and
        # names are unique per test run; a few killed runs make every later start fail
        # with "Too many servers already active".
        self.proc = spawn(self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                          death_signal=signal.SIGTERM)
        log.close()
        deadline = time.monotonic() + timeout
        # `jack_wait -w` polls only once a second; `jack_wait -c` every 20 ms finds the
        # moment the server is ready much more precisely (the reconnect test times it).
        while True:
            if self.proc.poll() is not None:
                fail(f"jackd exited with {self.proc.returncode} at start:\n{self.log()}")
            if self.running():
                return time.monotonic()
            if time.monotonic() >= deadline:
                fail(f"jackd '{self.name}' not ready after {timeout} s:\n{self.log()}")
            time.sleep(0.02)

    def running(self):
        out = self.query(["jack_wait", "-c"])
        return out.strip().splitlines()[-1:] == ["running"] if out.strip() else False

    def log(self):
        path = os.path.join(self.dir, f"jackd-{self.starts}.log")
        try:
            with open(path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is not None:
            kill_process(self.proc, signal.SIGTERM, grace=5.0)

    def tool(self, argv, check=True, timeout=10.0):
        """Runs a jack_* tool against this server; returns its stdout."""
        try:
            result = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=timeout, preexec_fn=_set_pdeathsig)
        except subprocess.TimeoutExpired:
            raise ToolTimeout(f"{' '.join(argv)} did not finish in {timeout} s") from None
        if check and result.returncode != 0:
            fail(f"{' '.join(argv)} exited with {result.returncode}: "
                 f"{result.stderr.decode(errors='replace')}")
        return result.stdout.decode(errors="replace")

    def query(self, argv, check=False):
        """A read-only tool (jack_lsp, jack_wait -c); one that is stuck is killed and run afresh. CI once
        had a jack_lsp stuck for 10 s just after continuo activated, on a loaded machine."""
        for attempt in range(1, QUERY_ATTEMPTS + 1):
            try:
                return self.tool(argv, check=check, timeout=QUERY_SECONDS)
            except ToolTimeout as stuck:
                if attempt == QUERY_ATTEMPTS:
                    raise
                print(f"{stuck}; asking again", flush=True)

    def ports(self):
        return set(line.strip() for line in self.query(["jack_lsp"]).splitlines()
                   if line and not line[0].isspace())

    def wait_ports(self, ports, timeout=15.0, proc=None):
        """Waits until every port exists; fails early if proc (the owner) exits."""
        wanted = set(ports)

        def ready():
            if proc is not None and proc.poll() is not None:
                fail(f"process exited with {proc.returncode} before its ports appeared")
            return wanted <= self.ports()

        wait_until(ready, timeout, interval=0.05, what=f"ports {sorted(wanted)} on {self.name}")

    def connections(self):
        """{port: set of ports connected to it} from `jack_lsp -c`."""
        result = {}
        current = None
        for line in self.query(["jack_lsp", "-c"]).splitlines():
            if not line.strip():
                continue
            if line[0].isspace():
                if current is not None:
                    result[current].add(line.strip())
            else:
                current = line.strip()
                result.setdefault(current, set())
        return result

    def connected(self, pairs):
        conns = self.connections()
        return all(b in conns.get(a, ()) for a, b in pairs)

    def connect(self, source, destination):
        """jack_connect; a connection that already exists counts as made."""
        out = self.tool(["jack_connect", source, destination], check=False)
        if not self.connected([(source, destination)]):
            fail(f"jack_connect {source} {destination} failed: {out}")

    def port_latency(self, port):
        """The largest latency (frames) `jack_lsp -l` reports for port, with the raw text."""
        text = self.query(["jack_lsp", "-l", port], check=True)
        numbers = []
        for line in text.splitlines():
            if "latency" in line:
                numbers += [int(n) for n in re.findall(r"-?\d+", line.split("=", 1)[-1])]
        if not numbers:
            fail(f"no latency for {port} in `jack_lsp -l`:\n{text}")
        return max(numbers), text

    def record(self, sources, seconds, name="rec"):
        """Records `seconds` from two source ports with jack_record; returns (rate, left, right)."""
        require_binary(JACK_RECORD, "jack_record")
        out = os.path.join(self.dir, f"{name}.f32")
        argv = [JACK_RECORD, "--server", self.name, "--client", name, "--connect", sources[0],
                "--connect", sources[1], "--seconds", str(seconds), "--out", out,
                # In synchronous mode a loaded machine slows the server's clock down
                # rather than dropping cycles, so allow for well below real time.
                "--timeout", str(seconds * 6 + 30)]
        try:
            result = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                    timeout=seconds * 6 + 60, preexec_fn=_set_pdeathsig)
        except subprocess.TimeoutExpired:
            fail(f"jack_record did not finish: {' '.join(argv)}")
        stdout = result.stdout.decode(errors="replace")
        if result.returncode != 0:
            fail(f"jack_record exited with {result.returncode}:\n{stdout}{result.stderr.decode(errors='replace')}")
        match = re.search(r"sample_rate=(\d+) frames=(\d+)", stdout)
        if not match:
            fail(f"jack_record printed no rate/frames: {stdout!r}")
        rate, frames = int(match.group(1)), int(match.group(2))
        left, right = read_f32_stereo(out)
        if len(left) != frames:
            fail(f"jack_record said {frames} frames but wrote {len(left)}")
        return rate, left, right


# ---------------------------------------------------------------------------------------
# continuo run.

STATUS_KEYS = ("frames_generated", "frames_played", "ring_fill_ms", "underruns", "xruns", "reconnects",
               "gen_ms_p50", "gen_ms_p99", "dsp_load_percent", "cpu_percent", "sample_rate", "buffer_frames")


def parse_status_lines(text):
    """Every complete `status {json}` log line's object, in order. A last line without its
    newline may still be being written (the log is read while continuo runs): it waits."""
    found = []
    for line in text[:text.rfind("\n") + 1].splitlines():
        pos = line.find(" status {")
        if pos < 0:
            continue
        try:
            found.append(json.loads(line[pos + len(" status "):]))
        except json.JSONDecodeError as error:
            fail(f"status line is not JSON ({error}): {line}")
    return found


class Continuo:
    """`continuo run` against a JackServer; stderr goes to a file that tests can read."""

    def __init__(self, server, args=(), binary=None, client="continuo"):
        self.server = server
        self.binary = binary or CONTINUO
        self.client = client
        self.args = list(args)
        self.proc = None
        self.stderr_path = os.path.join(server.dir, f"{client}.stderr")
        self.returncode = None

    def ports(self):
        return [f"{self.client}:{p}" for p in ("out_l", "out_r", "in_l", "in_r", "midi_in")]

    def start(self, wait_ports=True, timeout=20.0):
        require_binary(self.binary, os.path.basename(self.binary))
        self.argv = [self.binary, "run", "--server", self.server.name, "--client-name", self.client] + self.args
        print("$ " + " ".join(self.argv), flush=True)
        with open(self.stderr_path, "wb") as err:
            self.proc = spawn(self.argv, env=self.server.env, stdout=err, stderr=err)
        if wait_ports:
            try:
                self.server.wait_ports(self.ports(), timeout=timeout, proc=self.proc)
            except (AssertionError, TimeoutError) as error:
                fail(f"{error}\ncontinuo stderr:\n{self.stderr()}")
        return self

    def wait_osc(self, what="the OSC server's start-up line", timeout=10):
        """Until the OSC server listens: its JACK ports can come first, and a message sent
        before the socket is bound is lost."""
        wait_until(lambda: "osc: listening" in self.stderr(), timeout, what=what)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def status_now(self, timeout=10.0):
        """Sends SIGUSR1 and returns the status line it logs."""
        before = len(parse_status_lines(self.stderr()))
        self.proc.send_signal(signal.SIGUSR1)

        def logged():
            if not self.alive():
                fail(f"continuo exited with {self.proc.returncode}:\n{self.stderr()}")
            lines = parse_status_lines(self.stderr())
            return lines[before] if len(lines) > before else None

        return wait_until(logged, timeout, what="the status line after SIGUSR1")

    def wait_status(self, predicate, timeout, what):
        """Polls the status (SIGUSR1) until predicate(status) holds; returns that status."""
        last = {}

        def check():
            last["status"] = self.status_now()
            return last["status"] if predicate(last["status"]) else None

        try:
            return wait_until(check, timeout, interval=0.1, what=what)
        except TimeoutError as error:
            fail(f"{error}; last status {last.get('status')}")

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Stops continuo; returns (exit status, final status dict or None, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail(f"continuo did not exit within {timeout} s of signal {sig}:\n{self.stderr()}")
        self.returncode = self.proc.returncode
        text = self.stderr()
        statuses = parse_status_lines(text)
        return self.returncode, (statuses[-1] if statuses else None), text

    def stop_checked(self, sig=signal.SIGTERM):
        """stop() that requires exit 0 and a complete final status line."""
        rc, status, text = self.stop(sig)
        if rc != 0:
            fail(f"continuo exited with {rc} after signal {sig}, expected 0:\n{text}")
        if status is None:
            fail(f"continuo logged no status line at exit:\n{text}")
        missing = [k for k in STATUS_KEYS if k not in status]
        if missing:
            fail(f"status line lacks {missing}: {status}")
        return status, text


# ---------------------------------------------------------------------------------------
# Recordings of the counter double.

def read_f32_stereo(path):
    data = array.array("f")
    with open(path, "rb") as f:
        data.frombytes(f.read())
    if sys.byteorder != "little":
        data.byteswap()
    return data[0::2], data[1::2]


def counter_sample(n, channel):
    bits = (n >> (16 * channel)) & 0xFFFF
    return (bits - 32768) / 32768.0


def decode_index(left, right):
    """The counter index a frame encodes, or None if it is not an exact counter frame."""
    a = left * 32768.0 + 32768.0
    b = right * 32768.0 + 32768.0
    if a != int(a) or b != int(b) or not (0 <= a < 65536 and 0 <= b < 65536):
        return None
    return int(a) | (int(b) << 16)


def check_counter(left, right, max_lead_frames, fade_frames=FADE_FRAMES, label="recording"):
    """Requires a recording of the counter double: a leading part (silence, then at most
    fade_frames of a linear fade-in of the counter) no longer than max_lead_frames, and
    from there to the end strictly consecutive counter frames, bit-exact.
    Returns a dict describing what was found."""
    n = len(left)
    if n == 0:
        fail(f"{label}: empty")
    idx = [decode_index(l, r) for l, r in zip(left, right)]
    if idx[-1] is None:
        fail(f"{label}: the last frame ({left[-1]!r}, {right[-1]!r}) is not a counter frame")
    p = n - 1
    while p > 0 and idx[p - 1] is not None and idx[p - 1] == idx[p] - 1:
        p -= 1
    zeros = 0
    while zeros < p and left[zeros] == 0.0 and right[zeros] == 0.0:
        zeros += 1
    fade = p - zeros
    info = {"frames": n, "lead_frames": p, "silent_frames": zeros, "fade_frames": fade,
            "first_index": idx[p], "last_index": idx[-1], "consecutive_frames": n - p}
    if p > max_lead_frames or fade > fade_frames:
        # Describe the break nearest to the end: that is what cut the consecutive run.
        where = p - 1
        fail(f"{label}: not the counter sequence after a bounded lead-in: consecutive only from frame {p} "
             f"of {n} (allowed lead {max_lead_frames}, {zeros} silent + {fade} other frames, allowed fade "
             f"{fade_frames}); frame {where} = ({left[where]!r}, {right[where]!r}) -> index {idx[where]}, "
             f"frame {p} = index {idx[p]}; {info}")
    # The non-silent lead-in must be a fade of the counter frames just before idx[p]:
    # each sample is the counter sample times a gain in [0, 1] that never decreases.
    previous_gain = 0.0
    for i in range(zeros, p):
        k = idx[p] - (p - i)
        if k < 0:
            fail(f"{label}: {fade} faded frames precede counter index {idx[p]}")
        for channel, value in ((0, left[i]), (1, right[i])):
            expected = counter_sample(k, channel)
            if expected == 0.0:
                if value != 0.0:
                    fail(f"{label}: frame {i} channel {channel} = {value!r}, expected 0 (fade of index {k})")
                continue
            gain = value / expected
            if not (-1e-6 <= gain <= 1.0 + 1e-6) or gain < previous_gain - 1e-4:
                fail(f"{label}: frame {i} channel {channel} = {value!r} is not a fade-in of index {k} "
                     f"(gain {gain}, previous {previous_gain})")
            previous_gain = max(previous_gain, gain)
    return info


# ---------------------------------------------------------------------------------------
# Commands that need no server, and WAV files.

class CliResult:
    def __init__(self, argv, returncode, stdout, stderr, seconds):
        self.argv, self.returncode, self.stdout, self.stderr, self.seconds = argv, returncode, stdout, stderr, seconds

    def __str__(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.seconds:.2f} s\n"
                f"stdout: {self.stdout.strip()[:1500]}\nstderr: {self.stderr.strip()[:1500]}")


def run_cli(args, timeout=60.0, env=None, binary=None):
    """Runs continuo with args; returns a CliResult (returncode None if it timed out)."""
    binary = binary or CONTINUO
    require_binary(binary, "continuo")
    argv = [binary] + list(args)
    start = time.monotonic()
    proc = spawn(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = None
    return CliResult(argv, rc, out.decode(errors="replace"), err.decode(errors="replace"),
                     time.monotonic() - start)


def read_wav(path):
    """Reads a float32 WAV (format 3, or WAVE_FORMAT_EXTENSIBLE with the float subformat).
    Returns (sample_rate, channels, samples as array('f'), interleaved)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 12 or data[0:4] != b"RIFF" or data[8:12] != b"WAVE":
        fail(f"{path}: not a RIFF/WAVE file (starts {data[:12]!r})")
    pos = 12
    fmt = None
    samples = None
    while pos + 8 <= len(data):
        chunk_id = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        body = data[pos + 8:pos + 8 + size]
        if chunk_id == b"fmt ":
            tag = int.from_bytes(body[0:2], "little")
            channels = int.from_bytes(body[2:4], "little")
            rate = int.from_bytes(body[4:8], "little")
            bits = int.from_bytes(body[14:16], "little")
            if tag == 0xFFFE:
                if len(body) < 40:
                    fail(f"{path}: WAVE_FORMAT_EXTENSIBLE fmt chunk too short ({len(body)} bytes)")
                tag = int.from_bytes(body[24:26], "little")  # first two bytes of the subformat GUID
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if len(body) != size:
                fail(f"{path}: data chunk says {size} bytes, file holds {len(body)}")
            samples = body
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        fail(f"{path}: missing fmt or data chunk")
    tag, channels, rate, bits = fmt
    if tag != 3 or bits != 32:
        fail(f"{path}: format tag {tag}, {bits} bits; expected IEEE float (3), 32 bits")
    if len(samples) % (4 * channels):
        fail(f"{path}: data size {len(samples)} is not whole frames")
    values = array.array("f")
    values.frombytes(samples)
    if sys.byteorder != "little":
        values.byteswap()
    return rate, channels, values


def check_prompt_renders(tmp, model, other_prompt, *options):
    """render --prompt steers a model with a text path from the first frame, reproducibly:
    the same prompt and seed give the same WAV, no prompt or another one a different WAV.
    options: more render arguments for all four renders."""
    outputs = {}
    for name, extra in (("jazz", ["--prompt", "warm jazz piano"]), ("jazz_again", ["--prompt", "warm jazz piano"]),
                        ("none", []), ("other", ["--prompt", other_prompt])):
        path = os.path.join(tmp, f"prompt_{name}.wav")
        result = run_cli(["render", "--seconds", "1", "--model", model, "--seed", "3", "--out", path, *options, *extra])
        if result.returncode != 0:
            fail(f"render {extra} exited with {result.returncode}:\n{result.stderr}")
        with open(path, "rb") as f:
            outputs[name] = f.read()
    if outputs["jazz"] != outputs["jazz_again"]:
        fail("the same prompt and seed gave two different WAVs")
    if outputs["jazz"] == outputs["none"] or outputs["jazz"] == outputs["other"]:
        fail("--prompt did not change the audio")
    print("render --prompt: reproducible, and each prompt sounds different", flush=True)


# ---- Standard MIDI files for render --midi ----

def varlen(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.insert(0, 0x80 | (value & 0x7F))
        value >>= 7
    return bytes(out)


def chunk(tag, body):
    return tag + len(body).to_bytes(4, "big") + body


def triad_midi():
    """Format 1, 480 ticks a beat. Track 0: tempo 120 bpm. Track 1: the triad in running
    status at 1.0 s, pedal down at 1.5 s, keys up at 2.0 s, pedal up at 2.5 s."""
    tempo = varlen(0) + bytes([0xFF, 0x51, 0x03]) + (500000).to_bytes(3, "big") + varlen(0) + bytes([0xFF, 0x2F, 0])
    notes = (varlen(960) + bytes([0x90, 60, 100]) + varlen(0) + bytes([64, 100]) + varlen(0) + bytes([67, 100])
             + varlen(480) + bytes([0xB0, 64, 127])
             + varlen(480) + bytes([0x80, 60, 0]) + varlen(0) + bytes([64, 0]) + varlen(0) + bytes([67, 0])
             + varlen(480) + bytes([0xB0, 64, 0])
             + varlen(0) + bytes([0xFF, 0x2F, 0]))
    header = (1).to_bytes(2, "big") + (2).to_bytes(2, "big") + (480).to_bytes(2, "big")
    return chunk(b"MThd", header) + chunk(b"MTrk", tempo) + chunk(b"MTrk", notes)
