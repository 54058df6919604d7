#!/usr/bin/env python3
"""Builds a training set: N clips of S seconds, 48 kHz stereo, with per-frame note state,
drum flag and caption, written as .npz shards and a manifest.json (docs/training-data.md).

  python3 tools/train/data/build.py --out DIR --clips N --seconds S --seed K \
      [--soundfont F] [--synth fluidsynth|tinysoundfont] [--jobs 2] [--clips-per-shard 16]

Clip i of seed K is the same bytes whatever N, --jobs and --clips-per-shard are.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from data import clips, labels, render, styles  # noqa: E402

FORMAT_VERSION = 1


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory for the shards and manifest.json (new or empty)")
    p.add_argument("--clips", type=int, required=True, help="number of clips, at least 1")
    p.add_argument("--seconds", type=float, required=True,
                   help="length of a clip, a whole number of 40 ms frames (e.g. 10 or 30.04)")
    p.add_argument("--seed", type=int, required=True, help="seed, 0 or more: the same seed gives the same clips")
    p.add_argument("--soundfont", help=f"General MIDI soundfont (default: the first present of {', '.join(render.SOUNDFONTS)})")
    p.add_argument("--synth", choices=render.SYNTHS, default="fluidsynth",
                   help="the renderer (data/render.py; tinysoundfont where FluidSynth is missing)")
    p.add_argument("--jobs", type=int, default=1, help="clips rendered at once (default 1)")
    p.add_argument("--clips-per-shard", type=int, default=16, help="clips in one .npz shard (default 16)")
    args = p.parse_args(argv)

    def refuse(message):
        p.error(message)  # prints usage and the message, exits 2

    if args.clips < 1:
        refuse(f"--clips must be at least 1, got {args.clips}")
    frames = round(args.seconds * 25)
    if not args.seconds > 0 or abs(frames * 0.04 - args.seconds) > 1e-9:
        refuse(f"--seconds must be a positive whole number of 40 ms frames (a multiple of 0.04), got {args.seconds}")
    if frames > 25 * 600:
        refuse(f"--seconds must be at most 600, got {args.seconds}")
    if args.seed < 0:
        refuse(f"--seed must be 0 or more, got {args.seed}")
    if args.jobs < 1:
        refuse(f"--jobs must be at least 1, got {args.jobs}")
    if args.clips_per_shard < 1:
        refuse(f"--clips-per-shard must be at least 1, got {args.clips_per_shard}")
    if os.path.exists(os.path.join(args.out, "manifest.json")):
        refuse(f"--out {args.out} already holds a dataset (manifest.json); choose another directory or delete it")
    args.samples = frames * labels.FRAME_SAMPLES
    return args


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_shard(path, shard):
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        np.savez(f,
                 index=np.array([c.index for c in shard], np.int64),
                 style=np.array([c.style for c in shard], np.int16),
                 audio=np.stack([c.audio for c in shard]),
                 notes=np.stack([c.notes for c in shard]),
                 drums=np.stack([c.drums for c in shard]),
                 caption=np.array([c.caption for c in shard]),
                 meta=np.array([c.meta for c in shard]))
    os.replace(tmp, path)


_job = {}


def _init(seed, samples, soundfont, synth):
    _job.update(seed=seed, samples=samples, soundfont=soundfont, synth=synth)


def _make(index):
    return clips.make(_job["seed"], index, _job["samples"], _job["soundfont"], _job["synth"])


def main(argv):
    args = parse(argv)
    try:
        render.check_synth(args.synth)
        soundfont = render.soundfont_path(args.soundfont)
    except render.SetupError as e:
        print(f"build.py: error: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)

    clip_seconds = args.samples / clips.SAMPLE_RATE
    counts = [0] * len(styles.STYLES)
    shards, shard = [], []
    begun = last_report = time.monotonic()
    job = (args.seed, args.samples, soundfont, args.synth)
    _init(*job)
    pool = multiprocessing.Pool(args.jobs, _init, job) if args.jobs > 1 else None
    try:
        made = pool.imap(_make, range(args.clips)) if pool else map(_make, range(args.clips))
        for done, clip in enumerate(made, 1):
            counts[clip.style] += 1
            shard.append(clip)
            if len(shard) == args.clips_per_shard or done == args.clips:
                name = f"shard-{len(shards):05d}.npz"
                write_shard(os.path.join(args.out, name), shard)
                shards.append({"file": name, "first_clip": shard[0].index, "clips": len(shard)})
                shard = []
            now = time.monotonic()
            if now - last_report >= 2 or done == args.clips:
                last_report = now
                print(f"clips {done}/{args.clips}, {done * clip_seconds:.0f} s of audio, "
                      f"{done * clip_seconds / (now - begun):.1f} s of audio per wall second",
                      file=sys.stderr, flush=True)
    except RuntimeError as e:  # the synth failed on a clip: why (fluidsynth: its command and stderr)
        print(f"build.py: error: {e}", file=sys.stderr)
        return 1
    finally:
        if pool:
            pool.terminate()
    wall = time.monotonic() - begun

    manifest = {
        "format": "continuo-train-data", "format_version": FORMAT_VERSION,
        "config": {"clips": args.clips, "seconds": args.samples / clips.SAMPLE_RATE, "seed": args.seed,
                   "clips_per_shard": args.clips_per_shard},
        "clip_seeds": "numpy SeedSequence([seed, clip index]); style order: SeedSequence([seed])",
        "audio": {"sample_rate": clips.SAMPLE_RATE, "channels": 2, "dtype": "int16",
                  "samples_per_clip": args.samples},
        "labels": {"frame_samples": labels.FRAME_SAMPLES, "frames_per_clip": args.samples // labels.FRAME_SAMPLES,
                   "notes": "uint8 [frames, 128]: 0 off, 1 held, 2 onset (melodic parts only)",
                   "drums": "uint8 [frames]: 1 while the drum part plays"},
        "styles": list(styles.NAMES),
        "style_counts": {name: n for name, n in zip(styles.NAMES, counts)},
        "soundfont": {"path": os.path.abspath(soundfont), "bytes": os.path.getsize(soundfont),
                      "sha256": sha256(soundfont)},
        "synth": args.synth,
        "versions": {args.synth: render.synth_version(args.synth), "numpy": np.__version__,
                     "python": platform.python_version()},
        "shards": shards,
        "build": {"jobs": args.jobs, "wall_seconds": round(wall, 2),
                  "audio_seconds_per_wall_second": round(args.clips * clip_seconds / wall, 2)},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
