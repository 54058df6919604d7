#!/usr/bin/env python3
"""Writes one clip of a built dataset as a WAV file, with its caption and labels summary,
to listen to what training sees:

  python3 tools/train/data/listen.py DIR CLIP_INDEX out.wav
"""

import json
import os
import sys
import wave

import numpy as np


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip())
    directory, wanted, out = argv[0], int(argv[1]), argv[2]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    for shard in manifest["shards"]:
        if shard["first_clip"] <= wanted < shard["first_clip"] + shard["clips"]:
            with np.load(os.path.join(directory, shard["file"])) as z:
                k = wanted - shard["first_clip"]
                audio, notes, drums = z["audio"][k], z["notes"][k], z["drums"][k]
                print(z["caption"][k])
                print(z["meta"][k])
            break
    else:
        sys.exit(f"clip {wanted} is not in {directory} ({manifest['config']['clips']} clips)")
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(manifest["audio"]["sample_rate"])
        w.writeframes(audio.astype("<i2").tobytes())
    print(f"{len(notes)} frames: {int((notes == 2).sum())} onsets, {int((notes > 0).any(axis=1).sum())} frames "
          f"with notes, drums in {int(drums.sum())}; wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
