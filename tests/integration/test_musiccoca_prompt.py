#!/usr/bin/env python3
"""A package with MusicCoCa's text path ([musiccoca]: the converted stand-ins of
tests/fixtures/musiccoca on the tiny LM) takes text prompts like a package with a text tower:
`render --prompt` steers it reproducibly, and live `/continuo/prompt` and `/continuo/prompts`
answer /done and set the style tokens the text path computes."""

import os
import shutil

import jackfixture as jf
from test_osc import start

TINY = os.path.join(jf.REPO, "tests", "fixtures", "mrt2", "tiny", "package")
CONVERTED = os.path.join(jf.REPO, "tests", "fixtures", "musiccoca", "package")
SECTION = """
[musiccoca]
text_encoder = "musiccoca_text_encoder.graph.toml"
quantizer = "musiccoca_quantizer.graph.toml"
spm = "musiccoca_spm.model"
"""


def package(tmp):
    out = os.path.join(tmp, "mrt2_tiny_musiccoca")
    shutil.copytree(TINY, out)
    for name in os.listdir(CONVERTED):
        shutil.copyfile(os.path.join(CONVERTED, name), os.path.join(out, name))
    with open(os.path.join(out, "model.toml"), "a") as f:
        f.write(SECTION)
    return out


def check_live(model):
    with jf.JackServer("musiccoca") as server:
        server.start()
        continuo, client = start(server, model=model)
        tokens = lambda status: [status[f"style_token_{i}"] for i in range(12)]
        client.expect_done("/continuo/prompt", "warm jazz piano")
        jazz = tokens(client.status())
        if not all(0 <= t < 16 for t in jazz):
            jf.fail(f"tokens outside the stand-in quantizer's 16 codes: {jazz}")
        client.expect_done("/continuo/prompts", "warm jazz piano", 1.0, "dark techno with a rolling bassline", 3.0)
        blend = tokens(client.status())
        if blend == jazz:
            jf.fail("a blend weighted towards techno kept the jazz tokens")
        client.expect_done("/continuo/prompt", "warm jazz piano")
        if tokens(client.status()) != jazz:
            jf.fail("the same prompt gave other tokens")
        client.expect_fail("/continuo/prompt", ("x", -1.0), "prompt weight must be a finite number >= 0")
        final, _ = continuo.stop_checked()
        if final["underruns"] != 0:
            jf.fail(f"{final['underruns']} underruns while prompting")
    print(f"live prompts: /done, tokens {jazz}, the blend {blend}", flush=True)


def main():
    tmp = jf.tmpdir("musiccoca_prompt")
    model = package(tmp)
    jf.check_prompt_renders(tmp, model, "dark techno with a rolling bassline")
    check_live(model)


if __name__ == "__main__":
    jf.run_test(main)
