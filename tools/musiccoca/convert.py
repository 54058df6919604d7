"""Converts MusicCoCa's TFLite files into a continuo model package, and checks it.

  convert.py --text-encoder text_encoder.tflite --quantizer pretrained_vector_quantizer.tflite \
             --spm spm.model [--audio-preprocessor audio_preprocessor.tflite \
             --music-encoder music_encoder.tflite] --runner build/model/continuo-musiccoca PACKAGE_DIR

Writes into PACKAGE_DIR: musiccoca_text_encoder.graph.toml/.safetensors,
musiccoca_quantizer.graph.toml/.safetensors, musiccoca_spm.model, with the audio files also
musiccoca_audio_preprocessor.* and musiccoca_music_encoder.*, and a [musiccoca] section in
its model.toml (when it has none). Before writing, runs ai-edge-litert and continuo's runner
on the check prompts (and, for the audio path, on generated clips: tones, a chord, noise)
and refuses (exit 1) if any embedding differs by more than --tolerance
(max |continuo - litert| / max |litert|) or any token id or token differs.
Exit 2: the files hold ops or tensor types continuo does not run (each is named).
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sentencepiece

from tflite_graph import Unsupported, read_graph, write_graph

STEMS = {"text_encoder": "musiccoca_text_encoder", "quantizer": "musiccoca_quantizer"}
AUDIO_STEMS = {"audio_preprocessor": "musiccoca_audio_preprocessor", "music_encoder": "musiccoca_music_encoder"}
AUDIO_RATE = 16000
SPM_NAME = "musiccoca_spm.model"
DEFAULT_PROMPTS = Path(__file__).with_name("check_prompts.txt")


def text_ids(sp, text, length):
    """continuo's rule (docs/musiccoca.md): SentencePiece ids, cut to the encoder's length,
    padded with the vocabulary's pad id (0 when it has none)."""
    ids = sp.encode(text)[:length]
    pad = sp.pad_id() if sp.pad_id() >= 0 else 0
    return np.array([ids + [pad] * (length - len(ids))], np.int32)


def litert(path):
    """A function running the TFLite file at `path` on one input, with ai-edge-litert."""
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    source, sink = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def run(value):
        interpreter.set_tensor(source["index"], value)
        interpreter.invoke()
        return interpreter.get_tensor(sink["index"])
    run.input_shape = source["shape"]
    return run


def check_clips(samples):
    """The audio check's clips, one window of `samples` at 16 kHz each, the same every run."""
    t = np.arange(samples) / AUDIO_RATE
    noise = np.random.default_rng(2026).standard_normal((2, samples))
    tone = lambda hz, level: level * np.sin(2 * np.pi * hz * t)  # noqa: E731
    clips = {
        "a 440 Hz tone": tone(440, 0.5),
        "a decaying 110 Hz tone": tone(110, 0.8) * np.exp(-4 * t * AUDIO_RATE / samples),
        "a C major chord": tone(261.63, 0.2) + tone(329.63, 0.2) + tone(392.0, 0.2),
        "white noise": 0.3 * noise[0],
        "a 2 kHz tone in noise": tone(2000, 0.3) + 0.05 * noise[1],
    }
    return {name: clip.astype(np.float32) for name, clip in clips.items()}


def text_reference(args, prompts):
    """[{ids, embedding, tokens}] from ai-edge-litert, tokenised by Python's sentencepiece."""
    sp = sentencepiece.SentencePieceProcessor(model_file=str(args.spm))
    encoder, quantizer = litert(args.text_encoder), litert(args.quantizer)
    results = []
    for text in prompts:
        ids = text_ids(sp, text, int(encoder.input_shape[-1]))
        embedding = encoder(ids)
        results.append({"ids": ids.reshape(-1), "embedding": embedding.reshape(-1),
                        "tokens": quantizer(embedding).reshape(-1)})
    return results


def audio_window(args):
    """Samples the audio preprocessor takes."""
    return int(np.prod(litert(args.audio_preprocessor).input_shape))


def audio_reference(args, clips):
    """[{embedding, tokens}] from ai-edge-litert for each clip (one window each)."""
    preprocessor, encoder, quantizer = (litert(getattr(args, role)) for role in ("audio_preprocessor", "music_encoder",
                                                                                   "quantizer"))
    results = []
    for clip in clips:
        features = preprocessor(clip.reshape(preprocessor.input_shape))
        embedding = encoder(features.reshape(encoder.input_shape))
        results.append({"embedding": embedding.reshape(-1), "tokens": quantizer(embedding).reshape(-1)})
    return results


def continuo_run(runner, mode, files, lines):
    """continuo's runner in `mode` ('text' or 'audio') on `lines`: per input, a dict of its
    'ids' (text only), 'embedding' and 'tokens' lines."""
    done = subprocess.run([str(runner), mode] + [str(f) for f in files], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"convert: {runner} failed ({done.returncode}): {done.stderr.strip()}")
    results = []
    for line in done.stdout.splitlines():
        words = line.split()
        if words[0] in ("ids", "embedding") and (not results or words[0] in results[-1]):
            results.append({})
        results[-1][words[0]] = np.array(words[1:], float)
    return results


def compare(labels, expected, got, tolerance):
    """Problems, one line each; the worst relative error."""
    problems, worst = [], 0.0
    if len(got) != len(expected):
        return [f"continuo answered {len(got)} of {len(expected)} inputs"], float("inf")
    for label, want, have in zip(labels, expected, got):
        if "ids" in want and not np.array_equal(want["ids"], have.get("ids")):
            problems.append(f"{label}: token ids differ: sentencepiece {want['ids'].tolist()}, "
                            f"continuo {have.get('ids', np.array([])).astype(int).tolist()}")
        emb, c_emb = want["embedding"], have.get("embedding", np.array([]))
        error = np.abs(c_emb - emb).max() / max(np.abs(emb).max(), 1e-30) if c_emb.shape == emb.shape else np.inf
        worst = max(worst, error)
        if error > tolerance:
            problems.append(f"{label}: embedding relative error {error:.3g} > {tolerance:g}")
        if not np.array_equal(want["tokens"], have.get("tokens")):
            problems.append(f"{label}: tokens differ: litert {want['tokens'].tolist()}, "
                            f"continuo {have.get('tokens', np.array([])).astype(int).tolist()}")
    return problems, worst


def check(args, scratch, prompts):
    """Problems and the worst relative error of the text path and, when given, the audio path."""
    quantizer = scratch / f"{STEMS['quantizer']}.graph.toml"
    # continuo first: it names graphs whose inputs and outputs do not fit the path.
    got = continuo_run(args.runner, "text", [scratch / f"{STEMS['text_encoder']}.graph.toml", quantizer,
                                             scratch / SPM_NAME], prompts)
    problems, worst = compare([f"'{p}'" for p in prompts], text_reference(args, prompts), got, args.tolerance)
    if args.audio_preprocessor:
        clips = check_clips(audio_window(args))
        files = [scratch / f"{AUDIO_STEMS[role]}.graph.toml" for role in AUDIO_STEMS] + [quantizer]
        got = continuo_run(args.runner, "audio", files, [" ".join(f"{v:.9g}" for v in c) for c in clips.values()])
        audio_problems, audio_worst = compare(list(clips), audio_reference(args, list(clips.values())), got,
                                              args.tolerance)
        problems, worst = problems + audio_problems, max(worst, audio_worst)
    return problems, worst


MANIFEST_SECTION = f"""
[musiccoca]
# MusicCoCa, converted by tools/musiccoca/convert.py (docs/musiccoca.md).
text_encoder = "{STEMS['text_encoder']}.graph.toml"
quantizer = "{STEMS['quantizer']}.graph.toml"
spm = "{SPM_NAME}"
"""
AUDIO_KEYS = f"""# The audio path: audio prompts (/continuo/prompt/N/audio).
audio_preprocessor = "{AUDIO_STEMS['audio_preprocessor']}.graph.toml"
music_encoder = "{AUDIO_STEMS['music_encoder']}.graph.toml"
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-encoder", type=Path, required=True)
    parser.add_argument("--quantizer", type=Path, required=True)
    parser.add_argument("--spm", type=Path, required=True)
    parser.add_argument("--audio-preprocessor", type=Path, help="audio_preprocessor.tflite (with --music-encoder)")
    parser.add_argument("--music-encoder", type=Path, help="music_encoder.tflite (with --audio-preprocessor)")
    parser.add_argument("--runner", type=Path, required=True, help="continuo's continuo-musiccoca binary")
    parser.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS, help="check prompts, one per line")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("package", type=Path)
    args = parser.parse_args(argv)
    if (args.audio_preprocessor is None) != (args.music_encoder is None):
        parser.error("the audio path needs both --audio-preprocessor and --music-encoder")
    manifest = args.package / "model.toml"
    if manifest.exists() and re.search(r"^\[text_tower\]", manifest.read_text(), re.MULTILINE):
        print(f"convert: refused: {manifest} has a [text_tower]; continuo loads a package with one "
              "text path, [text_tower] or [musiccoca], not both: convert into a package without it",
              file=sys.stderr)
        return 2
    prompts = [p for p in args.prompts.read_text().splitlines() if p.strip()]
    stems = {**STEMS, **(AUDIO_STEMS if args.audio_preprocessor else {})}
    graphs, refusals = {}, []
    for role in stems:
        try:
            graphs[role] = read_graph(getattr(args, role))
        except Unsupported as error:
            refusals.append(str(error))
    if refusals:
        print("convert: refused:\n" + "\n".join(refusals), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="musiccoca-") as scratch:
        scratch = Path(scratch)
        for role, graph in graphs.items():
            write_graph(graph, scratch, stems[role], getattr(args, role))
        shutil.copyfile(args.spm, scratch / SPM_NAME)
        problems, worst = check(args, scratch, prompts)
        if problems:
            print("convert: refused, continuo differs from ai-edge-litert:\n" + "\n".join(problems), file=sys.stderr)
            return 1
        args.package.mkdir(parents=True, exist_ok=True)
        for item in scratch.iterdir():
            shutil.copyfile(item, args.package / item.name)
    write_manifest(args.package / "model.toml", MANIFEST_SECTION + (AUDIO_KEYS if args.audio_preprocessor else ""))
    checked = f"{len(prompts)} prompts" + (f" and {len(check_clips(1))} clips" if args.audio_preprocessor else "")
    print(f"convert: wrote {args.package}: {checked} agree, worst relative error {worst:.3g}")
    return 0


def write_manifest(manifest, section):
    """Appends `section` to the package's model.toml, or says what to add by hand."""
    if not manifest.exists():
        print(f"convert: no {manifest}: add this section to the package's model.toml:{section}")
    elif "[musiccoca]" not in manifest.read_text():
        with manifest.open("a") as f:
            f.write(section)
    elif AUDIO_KEYS in section and "audio_preprocessor" not in manifest.read_text():
        print(f"convert: {manifest} has a [musiccoca] section without the audio path: add to it\n{AUDIO_KEYS}")


if __name__ == "__main__":
    sys.exit(main())
