"""Writes tests/fixtures/musiccoca/: the stand-in TFLite files (make_standins.py), their
conversion (convert.py, checked against ai-edge-litert), and ai-edge-litert's own outputs
for the check prompts, so the C++ tests compare against litert without Python.

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
    files = ["--text-encoder", str(FIXTURES / "text_encoder.tflite"), "--quantizer", str(FIXTURES / "quantizer.tflite"),
             "--spm", str(FIXTURES / "spm.model"), "--runner", str(args.runner)]
    if convert.main(files + [str(FIXTURES / "package")]) != 0:
        raise SystemExit("make_fixtures: the stand-ins did not convert")
    prompts = [p for p in convert.DEFAULT_PROMPTS.read_text().splitlines() if p.strip()]
    expected = convert.reference(argparse.Namespace(spm=FIXTURES / "spm.model", text_encoder=FIXTURES / "text_encoder.tflite",
                                                    quantizer=FIXTURES / "quantizer.tflite"), prompts)
    arrays = []
    for i, (ids, embedding, tokens) in enumerate(expected):
        for key, value in (("ids", ids), ("embedding", embedding), ("tokens", tokens)):
            arrays.append((f"{key}.{i}", value.shape, "F32", lambda v=value: v.astype(np.float32)))
    write_safetensors(FIXTURES / "litert.safetensors", arrays)
    print(f"wrote {FIXTURES}: {len(prompts)} prompts")


if __name__ == "__main__":
    main()
