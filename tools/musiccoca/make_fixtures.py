"""Writes tests/fixtures/musiccoca/: the stand-in TFLite files (make_standins.py), their
conversion (convert.py, checked against ai-edge-litert), and ai-edge-litert's own outputs
for the check prompts and the check clips (with the clips), so the C++ tests compare
against litert without Python.

  .venv-coca/bin/python tools/musiccoca/make_fixtures.py --runner build/model/continuo-musiccoca
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import convert
from convert_mrt2 import write_safetensors

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "tests" / "fixtures" / "musiccoca"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runner", type=Path, required=True)
    args = parser.parse_args()
    shutil.rmtree(FIXTURES, ignore_errors=True)
    subprocess.run([sys.executable, str(HERE / "make_standins.py"), str(FIXTURES)], check=True)
    shutil.copyfile(convert.DEFAULT_PROMPTS, FIXTURES / "prompts.txt")
    roles = {"text_encoder": "text_encoder", "quantizer": "quantizer", "spm": "spm.model",
             "audio_preprocessor": "audio_preprocessor", "music_encoder": "music_encoder"}
    paths = {role: FIXTURES / (name if "." in name else f"{name}.tflite") for role, name in roles.items()}
    files = [word for role, path in paths.items() for word in (f"--{role.replace('_', '-')}", str(path))]
    if convert.main(files + ["--runner", str(args.runner), str(FIXTURES / "package")]) != 0:
        raise SystemExit("make_fixtures: the stand-ins did not convert")
    prompts = [p for p in convert.DEFAULT_PROMPTS.read_text().splitlines() if p.strip()]
    files = argparse.Namespace(**paths)
    arrays = []

    def keep(key, value):
        arrays.append((key, value.shape, "F32", lambda v=value: v.astype(np.float32)))
    for i, expected in enumerate(convert.text_reference(files, prompts)):
        for key in ("ids", "embedding", "tokens"):
            keep(f"{key}.{i}", expected[key])
    clips = list(convert.check_clips(convert.audio_window(files)).values())
    for i, (clip, expected) in enumerate(zip(clips, convert.audio_reference(files, clips))):
        keep(f"clip.{i}", clip)
        keep(f"clip_embedding.{i}", expected["embedding"])
        keep(f"clip_tokens.{i}", expected["tokens"])
    write_safetensors(FIXTURES / "litert.safetensors", arrays)
    print(f"wrote {FIXTURES}: {len(prompts)} prompts, {len(clips)} clips")


if __name__ == "__main__":
    main()
