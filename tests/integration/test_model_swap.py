"""/continuo/model/load against a running continuo on a private jackd, from a real UDP OSC
client: names that are not bare package names are refused at once; broken packages (a
truncated weights file, a misshapen, a missing and an extra tensor, a manifest missing a
key) are refused with a
reason naming the file or key while the model playing plays on (frames generated keep
growing, no underrun); good packages are switched to (/done, a /continuo/model event,
status field `model`), and prompts follow the new model's text tower."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jackfixture as jf  # noqa: E402
import test_osc as osc  # noqa: E402

FIXTURES = os.path.join(jf.REPO, "tests", "fixtures", "mrt2")
LOAD = "/continuo/model/load"


def make_models_dir():
    """tiny and tiny_text as they are, and broken copies of tiny."""
    models = jf.tmpdir("models")
    os.symlink(os.path.join(FIXTURES, "tiny", "package"), os.path.join(models, "tiny"))
    os.symlink(os.path.join(FIXTURES, "tiny_text"), os.path.join(models, "tiny_text"))

    def broken(name, edit):
        path = os.path.join(models, name)
        shutil.copytree(os.path.join(FIXTURES, "tiny", "package"), path)
        edit(path)

    def truncate(path):
        with open(os.path.join(path, "depthformer.safetensors"), "r+b") as f:
            f.truncate(300_000)

    def edit_manifest(old, new):
        def edit(path):
            manifest = os.path.join(path, "model.toml")
            with open(manifest) as f:
                text = f.read()
            if old not in text:
                jf.fail(f"fixture manifest lacks {old!r}")
            with open(manifest, "w") as f:
                f.write(text.replace(old, new, 1))
        return edit

    def edit_header(old, new):
        """Same-length edits of depthformer.safetensors' JSON header, so its offsets hold."""
        def edit(path):
            weights = os.path.join(path, "depthformer.safetensors")
            with open(weights, "rb") as f:
                data = f.read()
            if data.count(old) != 1 or len(old) != len(new):
                jf.fail(f"cannot edit {old!r} in the fixture's header")
            with open(weights, "wb") as f:
                f.write(data.replace(old, new))
        return edit

    broken("truncated", truncate)
    broken("misshapen", edit_header(b'[646912,659200],"dtype":"F32","shape":[48,64]',
                                    b'[646912,659200],"dtype":"F32","shape":[64,48]'))
    broken("renamed", edit_header(b'"depth.adapter"', b'"depth.adaptor"'))  # one missing, one extra
    broken("no_rate", edit_manifest("sample_rate = 8000\n", ""))
    return models


def answer(client, timeout=60.0):
    """The next /done or /fail, skipping events."""
    events = []
    while True:
        reply = client.receive(timeout)
        if reply is None:
            jf.fail(f"no answer to {LOAD} within {timeout} s (events: {events})")
        if reply[0] in ("/done", "/fail"):
            return reply, events
        events.append(reply)


def status_after(client, predicate):
    """Polls /continuo/status until predicate holds; returns that status."""
    return jf.wait_until(lambda: (lambda s: s if predicate(s) else None)(client.status()), 30, interval=0.1,
                         what="the status to move on")


def expect_refused(client, continuo, name, reason_parts):
    before = client.status()
    client.send(osc.message(LOAD, name))
    reply, _ = answer(client)
    if reply[0] != "/fail" or reply[2][0] != LOAD or not all(p in reply[2][1] for p in reason_parts):
        jf.fail(f"{LOAD} {name}: expected /fail naming {reason_parts}, got {reply}")
    # The model playing plays on: it keeps generating, and playback never ran dry.
    after = status_after(client, lambda s: s["frames_generated"] > before["frames_generated"] + 10)
    if after["model"] != before["model"] or after["underruns"] != 0:
        jf.fail(f"after refusing {name}: {before['model']} -> {after['model']}, underruns {after['underruns']}")
    osc.require_alive(continuo, f"{LOAD} {name}")
    print(f"refused {name}: {reply[2][1]}", flush=True)


def expect_loaded(client, name):
    before = client.status()
    client.send(osc.message(LOAD, name))
    reply, events = answer(client)
    if reply != ("/done", "s", [LOAD]):
        jf.fail(f"{LOAD} {name}: expected /done, got {reply}")
    events += client.drain(0.3)
    if ("/continuo/model", "s", [f"loaded {name}"]) not in events:
        jf.fail(f"no /continuo/model 'loaded {name}' event for a subscriber: {events}")
    after = status_after(client, lambda s: s["frames_generated"] > before["frames_generated"] + 10)
    if after["model"] != name or after["underruns"] != 0:
        jf.fail(f"after loading {name}: status model {after['model']!r}, underruns {after['underruns']}")


def main():
    models = make_models_dir()
    with jf.JackServer("swap") as server:
        server.start()
        continuo, client = osc.start(server, f"model.dir={models}", "model.prefill_frames=50")
        client.expect_done("/continuo/notify", 1)
        if client.status()["model"] != "double:counter":
            jf.fail(f"status model at start: {client.status()['model']!r}")

        # Never a path, a parent, or a kind:argument: refused before anything is read.
        for name in ("../tiny", "/etc/passwd", "double:counter", ".hidden", "x" * 129):
            client.expect_fail(LOAD, (name,), "not a model package name")
        client.expect_fail(LOAD, (3,), "expects s")

        expect_refused(client, continuo, "absent", ["no model package named 'absent'"])
        expect_refused(client, continuo, "truncated", ["depthformer.safetensors", "beyond the end of the file"])
        expect_refused(client, continuo, "misshapen", ["depthformer.safetensors", "depth.adapter", "[64, 48]"])
        expect_refused(client, continuo, "renamed", ["'depth.adapter': missing", "and 1 more mismatch"])
        expect_refused(client, continuo, "no_rate", ["model.toml", "sample_rate"])

        expect_loaded(client, "tiny_text")
        client.expect_done("/continuo/prompt", "warm jazz piano")
        expect_loaded(client, "tiny")
        client.expect_fail("/continuo/prompt", ("warm jazz piano",), "no text tower")
        if client.status()["prompts"] != "":
            jf.fail(f"prompts kept without a text tower: {client.status()['prompts']!r}")

        # One load at a time: the second of two in one bundle is refused at once.
        client.send(osc.bundle([osc.message(LOAD, "tiny_text"), osc.message(LOAD, "tiny")]))
        first, _ = answer(client)
        if first[0] != "/fail" or "busy: still loading tiny_text" not in first[2][1]:
            jf.fail(f"the second load while one runs: expected /fail busy, got {first}")
        second, _ = answer(client)
        if second != ("/done", "s", [LOAD]) or client.status()["model"] != "tiny_text":
            jf.fail(f"the first load of the bundle: {second}, model {client.status()['model']!r}")

        status, log = continuo.stop_checked()
        if status["underruns"] != 0 or status["model"] != "tiny_text":
            jf.fail(f"final status: {status}")
        for line in ("model: truncated refused:", "model: tiny_text plays", "generator: now stepping mrt2_tiny"):
            if line not in log:
                jf.fail(f"the log lacks {line!r}:\n{log}")


if __name__ == "__main__":
    jf.run_test(main)
