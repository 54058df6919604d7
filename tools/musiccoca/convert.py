"""Converts MusicCoCa's TFLite text path into a continuo model package, and checks it.

  convert.py --text-encoder text_encoder.tflite --quantizer pretrained_vector_quantizer.tflite \
             --spm spm.model --runner build/model/continuo-musiccoca PACKAGE_DIR

Writes into PACKAGE_DIR: musiccoca_text_encoder.graph.toml/.safetensors,
musiccoca_quantizer.graph.toml/.safetensors, musiccoca_spm.model, and a [musiccoca] section
in its model.toml (when it has none). Before writing, runs ai-edge-litert and continuo's
runner on the check prompts and refuses (exit 1) if any embedding differs by more than
--tolerance (max |continuo - litert| / max |litert|) or any token id or token differs.
Exit 2: the files hold ops or tensor types continuo does not run (each is named).
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sentencepiece

from tflite_graph import Unsupported, read_graph, write_graph

STEMS = {"text_encoder": "musiccoca_text_encoder", "quantizer": "musiccoca_quantizer"}
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


def reference(args, prompts):
    """[(ids, embedding, tokens)] from ai-edge-litert, tokenised by Python's sentencepiece."""
    sp = sentencepiece.SentencePieceProcessor(model_file=str(args.spm))
    encoder, quantizer = litert(args.text_encoder), litert(args.quantizer)
    results = []
    for text in prompts:
        ids = text_ids(sp, text, int(encoder.input_shape[-1]))
        embedding = encoder(ids)
        results.append((ids.reshape(-1), embedding.reshape(-1), quantizer(embedding).reshape(-1)))
    return results


def continuo_run(runner, directory, prompts):
    """The same from continuo's runner: 'ids', 'embedding', 'tokens' lines per prompt."""
    command = [str(runner), str(directory / f"{STEMS['text_encoder']}.graph.toml"),
               str(directory / f"{STEMS['quantizer']}.graph.toml"), str(directory / SPM_NAME)]
    done = subprocess.run(command, input="\n".join(prompts) + "\n", capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"convert: {runner} failed ({done.returncode}): {done.stderr.strip()}")
    lines = [line.split() for line in done.stdout.splitlines()]
    rows = {key: [np.array(l[1:], float) for l in lines if l[0] == key] for key in ("ids", "embedding", "tokens")}
    return list(zip(rows["ids"], rows["embedding"], rows["tokens"]))


def compare(prompts, expected, got, tolerance):
    """Problems, one line each; the worst relative error."""
    problems, worst = [], 0.0
    if len(got) != len(expected):
        return [f"continuo answered {len(got)} of {len(expected)} prompts"], float("inf")
    for text, (ids, emb, tok), (c_ids, c_emb, c_tok) in zip(prompts, expected, got):
        if not np.array_equal(ids, c_ids):
            problems.append(f"'{text}': token ids differ: sentencepiece {ids.tolist()}, continuo {c_ids.astype(int).tolist()}")
        error = np.abs(c_emb - emb).max() / max(np.abs(emb).max(), 1e-30) if c_emb.shape == emb.shape else np.inf
        worst = max(worst, error)
        if error > tolerance:
            problems.append(f"'{text}': embedding relative error {error:.3g} > {tolerance:g}")
        if not np.array_equal(tok, c_tok):
            problems.append(f"'{text}': tokens differ: litert {tok.tolist()}, continuo {c_tok.astype(int).tolist()}")
    return problems, worst


MANIFEST_SECTION = f"""
[musiccoca]
# MusicCoCa's text path, converted by tools/musiccoca/convert.py (docs/musiccoca.md).
text_encoder = "{STEMS['text_encoder']}.graph.toml"
quantizer = "{STEMS['quantizer']}.graph.toml"
spm = "{SPM_NAME}"
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-encoder", type=Path, required=True)
    parser.add_argument("--quantizer", type=Path, required=True)
    parser.add_argument("--spm", type=Path, required=True)
    parser.add_argument("--runner", type=Path, required=True, help="continuo's continuo-musiccoca binary")
    parser.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS, help="check prompts, one per line")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("package", type=Path)
    args = parser.parse_args(argv)
    prompts = [p for p in args.prompts.read_text().splitlines() if p.strip()]
    try:
        graphs = {role: read_graph(getattr(args, role)) for role in STEMS}
    except Unsupported as error:
        print(f"convert: refused:\n{error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="musiccoca-") as scratch:
        scratch = Path(scratch)
        for role, graph in graphs.items():
            write_graph(graph, scratch, STEMS[role], getattr(args, role))
        shutil.copyfile(args.spm, scratch / SPM_NAME)
        # continuo first: it names a text encoder or quantizer whose inputs do not fit the text path.
        got = continuo_run(args.runner, scratch, prompts)
        problems, worst = compare(prompts, reference(args, prompts), got, args.tolerance)
        if problems:
            print("convert: refused, continuo differs from ai-edge-litert:\n" + "\n".join(problems), file=sys.stderr)
            return 1
        args.package.mkdir(parents=True, exist_ok=True)
        for item in scratch.iterdir():
            shutil.copyfile(item, args.package / item.name)
    manifest = args.package / "model.toml"
    if not manifest.exists():
        print(f"convert: no {manifest}: add this section to the package's model.toml:{MANIFEST_SECTION}")
    elif "[musiccoca]" not in manifest.read_text():
        with manifest.open("a") as f:
            f.write(MANIFEST_SECTION)
    print(f"convert: wrote {args.package}: {len(prompts)} prompts agree, worst relative error {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
