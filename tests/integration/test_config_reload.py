"""SIGHUP re-reads the config file given at start (with the same --set overrides) while
continuo plays on a private jackd: [control] values, engine.volume_db, [[presets]] and
midi.cc_map change at once (seen in /continuo/status.reply and /continuo/preset), a
changed model.spec switches the model through the hot-swap path (one that fails to load
is tried again at the next reload), a key that needs a restart is named in the log, and
values the performer set live that the file did not change stay. A config with an
out-of-range value or a syntax error is refused, naming file, line and key, and nothing
changes. Playback never runs dry across the reloads."""

import math
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

TINY = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")


def config_text(models, temperature=1.0, volume_db=0.0, lookahead_ms=300, spec="double:counter", presets=("calm",),
                knob=70):
    text = (f"[engine]\nlookahead_ms = {lookahead_ms}\nvolume_db = {volume_db}\n\n"
            f"[model]\nspec = \"{spec}\"\ndir = \"{models}\"\nprefill_frames = 50\n\n"
            f"[control]\ntemperature = {temperature}\ntop_k = 40\n\n"
            f"[midi]\ncc_map = [{{cc = {knob}, param = \"temperature\"}}]\n")
    for name in presets:
        text += f"\n[[presets]]\nname = \"{name}\"\ntemperature = 0.5\n"
    return text


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def reload(continuo, marker):
    """Sends SIGHUP and waits for the log line that ends the reload; returns the log."""
    before = continuo.stderr().count(marker)
    continuo.proc.send_signal(signal.SIGHUP)
    jf.wait_until(lambda: continuo.stderr().count(marker) > before, 20, what=f"'{marker}' in the log")
    osc.require_alive(continuo, "SIGHUP")
    return continuo.stderr()


def expect_log(log, *lines):
    for line in lines:
        if line not in log:
            jf.fail(f"the log lacks {line!r}:\n{log}")


def main():
    models = jf.tmpdir("models")
    os.symlink(TINY, os.path.join(models, "tiny"))
    path = os.path.join(jf.tmpdir("reload"), "continuo.toml")
    write(path, config_text(models))
    port = osc.free_udp_port()
    with jf.JackServer("reload") as server:
        server.start()
        continuo = jf.Continuo(server, ["--config", path, "--set", f"osc.port={port}"]).start()
        continuo.wait_osc()
        client = osc.Client(port)
        start = client.status()
        if start["temperature"] != 1.0 or start["volume_db"] != 0.0 or start["model"] != "double:counter":
            jf.fail(f"status at start: {start}")
        client.expect_fail("/continuo/preset", ("bright",), "no preset named")
        client.expect_done("/continuo/topk", 99)  # the performer's; the file does not change top_k

        write(path, config_text(models, temperature=0.6, volume_db=-6.0, lookahead_ms=400, spec="tiny",
                                presets=("calm", "bright"), knob=20))
        log = reload(continuo, "config: reloaded")
        expect_log(log, "config: engine.lookahead_ms changed; it takes effect at the next start",
                   "config: control.temperature applied", "config: engine.volume_db applied",
                   "config: presets applied", "config: midi.cc_map applied")
        status = jf.wait_until(lambda: (lambda s: s if s["model"] == "tiny" else None)(client.status()), 30,
                               what="the model named by the reloaded model.spec")
        if not math.isclose(status["temperature"], 0.6, rel_tol=1e-6) or status["volume_db"] != -6.0:
            jf.fail(f"the reloaded values are not in force: {status}")
        if status["top_k"] != 99:
            jf.fail(f"a value the file left alone was reset: top_k {status['top_k']}")
        client.expect_done("/continuo/preset", "bright")
        applied = client.status()

        # Refused: nothing changes, and the log names the file, the line and the key.
        write(path, config_text(models, temperature=99, volume_db=-12.0))
        log = reload(continuo, "config: not reloaded")
        expect_log(log, f"{path}:11: control.temperature: must be greater than 0 and at most 10")
        write(path, "[control\ntemperature = 0.2\n")
        log = reload(continuo, "config: not reloaded")
        expect_log(log, f"{path}:1:")
        after = client.status()
        for field in ("temperature", "volume_db", "top_k", "model", "control_version"):
            if after[field] != applied[field]:
                jf.fail(f"a refused reload changed {field}: {applied[field]} -> {after[field]}")
        jf.wait_until(lambda: client.status()["frames_generated"] > applied["frames_generated"], 30,
                      what="the model to go on generating after the refused reloads")

        # A model.spec that does not load is refused, and tried again at the next reload of
        # the same file, once the package is there.
        write(path, config_text(models, temperature=0.6, volume_db=-6.0, spec="later", presets=("calm", "bright"),
                                knob=20))
        reload(continuo, "config: reloaded")
        jf.wait_until(lambda: "model: later refused: no model package named 'later'" in continuo.stderr(), 20,
                      what="the refusal of model.spec later")
        if client.status()["model"] != "tiny":
            jf.fail(f"a refused model.spec changed the model: {client.status()['model']!r}")
        os.symlink(TINY, os.path.join(models, "later"))
        reload(continuo, "config: reloaded")
        jf.wait_until(lambda: client.status()["model"] == "later", 30, what="model.spec later on the second reload")

        final, _ = continuo.stop_checked()
        if final["underruns"] != 0:
            jf.fail(f"playback ran dry across the reloads: {final}")


if __name__ == "__main__":
    jf.run_test(main)
