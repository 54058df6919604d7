"""Builds the stand-in MusicCoCa files continuo's tests use, in place of Google's:

  text_encoder.tflite   SentencePiece ids [1, L] -> embedding [1, E]: a one-block transformer
  quantizer.tflite      embedding [1, E] -> 12 tokens: residual VQ, nearest codeword per level
  custom_op.tflite      a graph with a CUSTOM op, which the converter must refuse
  spm.model             a SentencePiece vocabulary trained on a few captions

Run with the venv of tools/musiccoca/requirements.txt:
  .venv-coca/bin/python tools/musiccoca/make_standins.py tests/fixtures/musiccoca
Seeded: the same files every run (SentencePiece training included).
"""
import argparse
import pathlib

import numpy as np
import sentencepiece as spm

import tflite_writer as tw
from tflite_writer import OPS

LENGTH, WIDTH, HEADS, FF, EMBED = 16, 32, 2, 64, 24
LEVELS, CODES = 12, 16
CAPTIONS = [
    "warm jazz piano trio with brushed drums",
    "dark techno with a rolling bassline",
    "lo-fi hip hop beats to relax",
    "ambient synth pads slowly evolving",
    "bright acoustic guitar folk song",
    "heavy distorted rock guitar riff",
    "orchestral strings swelling in a minor key",
    "funky bass and tight drums groove",
    "sad piano ballad in the rain",
    "fast drum and bass with chopped breaks",
]


def train_vocabulary(out):
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CAPTIONS), model_prefix=str(out / "spm"), vocab_size=96,
        model_type="unigram", pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, hard_vocab_limit=False,
        num_threads=1, seed_sentencepiece_size=1000, minloglevel=2,
        normalization_rule_name="identity")
    return spm.SentencePieceProcessor(model_file=str(out / "spm.model")).vocab_size()


def layer_norm(g, x, rows, rng, tag):
    """LayerNorm over the last axis in elementwise pieces, as converters emit it."""
    axis = g.const(f"{tag}/axis", np.array([-1], np.int32))
    mean = g.op(OPS.MEAN, [x, axis], [rows, 1], options=tw.reducer(True))
    centred = g.op(OPS.SUB, [x, mean], [rows, WIDTH], options=tw.sub)
    square = g.op(OPS.SQUARED_DIFFERENCE, [x, mean], [rows, WIDTH])
    var = g.op(OPS.MEAN, [square, axis], [rows, 1], options=tw.reducer(True))
    eps = g.const(f"{tag}/eps", np.array([1e-5], np.float32))
    scale = g.op(OPS.RSQRT, [g.op(OPS.ADD, [var, eps], [rows, 1], options=tw.add)], [rows, 1])
    normed = g.op(OPS.MUL, [centred, scale], [rows, WIDTH], options=tw.mul)
    gamma = g.const(f"{tag}/gamma", (1 + 0.1 * rng.standard_normal(WIDTH)).astype(np.float32))
    beta = g.const(f"{tag}/beta", (0.1 * rng.standard_normal(WIDTH)).astype(np.float32))
    return g.op(OPS.ADD, [g.op(OPS.MUL, [normed, gamma], [rows, WIDTH], options=tw.mul), beta], [rows, WIDTH],
                options=tw.add)


def dense(g, x, rows, n_in, n_out, rng, tag, bias=True):
    w = g.const(f"{tag}/kernel", (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32))
    inputs = [x, w, g.const(f"{tag}/bias", (0.1 * rng.standard_normal(n_out)).astype(np.float32))] if bias else [x, w, -1]
    return g.op(OPS.FULLY_CONNECTED, inputs, [rows, n_out], options=tw.fully_connected)


def heads(g, x, tag):
    """[L, W] -> [H, L, W/H]."""
    split = g.op(OPS.RESHAPE, [x, g.const(f"{tag}/split", np.array([LENGTH, HEADS, WIDTH // HEADS], np.int32))],
                 [LENGTH, HEADS, WIDTH // HEADS])
    return g.op(OPS.TRANSPOSE, [split, g.const(f"{tag}/perm", np.array([1, 0, 2], np.int32))],
                [HEADS, LENGTH, WIDTH // HEADS])


def text_encoder(vocab, rng):
    g = tw.Graph()
    ids = g.input("ids", [1, LENGTH], np.int32)
    flat = g.op(OPS.RESHAPE, [ids, g.const("flat", np.array([LENGTH], np.int32))], [LENGTH], np.int32)
    table = g.const("embed", (0.5 * rng.standard_normal((vocab, WIDTH))).astype(np.float32))
    x = g.op(OPS.GATHER, [table, flat], [LENGTH, WIDTH], options=tw.gather(0))
    x = g.op(OPS.ADD, [x, g.const("pos", (0.1 * rng.standard_normal((LENGTH, WIDTH))).astype(np.float32))],
             [LENGTH, WIDTH], options=tw.add)
    h = layer_norm(g, x, LENGTH, rng, "ln1")
    q, k, v = (heads(g, dense(g, h, LENGTH, WIDTH, WIDTH, rng, n), n) for n in ("q", "k", "v"))
    scores = g.op(OPS.BATCH_MATMUL, [q, k], [HEADS, LENGTH, LENGTH], options=tw.batch_matmul(False, True))
    scale = g.const("scale", np.array([1 / np.sqrt(WIDTH // HEADS)], np.float32))
    scores = g.op(OPS.MUL, [scores, scale], [HEADS, LENGTH, LENGTH], options=tw.mul)
    weights = g.op(OPS.SOFTMAX, [scores], [HEADS, LENGTH, LENGTH], options=tw.softmax(1.0))
    mixed = g.op(OPS.BATCH_MATMUL, [weights, v], [HEADS, LENGTH, WIDTH // HEADS], options=tw.batch_matmul(False, False))
    mixed = g.op(OPS.TRANSPOSE, [mixed, g.const("unperm", np.array([1, 0, 2], np.int32))],
                 [LENGTH, HEADS, WIDTH // HEADS])
    mixed = g.op(OPS.RESHAPE, [mixed, g.const("merge", np.array([LENGTH, WIDTH], np.int32))], [LENGTH, WIDTH])
    x = g.op(OPS.ADD, [x, dense(g, mixed, LENGTH, WIDTH, WIDTH, rng, "o")], [LENGTH, WIDTH], options=tw.add)
    h = layer_norm(g, x, LENGTH, rng, "ln2")
    h = g.op(OPS.GELU, [dense(g, h, LENGTH, WIDTH, FF, rng, "ff1")], [LENGTH, FF], options=tw.gelu(False))
    x = g.op(OPS.ADD, [x, dense(g, h, LENGTH, FF, WIDTH, rng, "ff2")], [LENGTH, WIDTH], options=tw.add)
    pooled = g.op(OPS.MEAN, [x, g.const("rows", np.array([0], np.int32))], [1, WIDTH], options=tw.reducer(True))
    pooled = g.op(OPS.TANH, [pooled], [1, WIDTH])
    y = dense(g, pooled, 1, WIDTH, EMBED, rng, "project")
    y = g.op(OPS.GELU, [y], [1, EMBED], options=tw.gelu(True))
    norm = g.op(OPS.SUM, [g.op(OPS.MUL, [y, y], [1, EMBED], options=tw.mul), g.const("last", np.array([1], np.int32))],
                [1, 1], options=tw.reducer(True))
    out = g.op(OPS.DIV, [y, g.op(OPS.SQRT, [norm], [1, 1])], [1, EMBED], options=tw.div, name="embedding")
    g.outputs.append(out)
    return g


def quantizer(rng):
    """Residual VQ: per level, argmin over ||c||^2 - 2 r.c, then subtract the chosen codeword."""
    g = tw.Graph()
    residual = g.input("embedding", [1, EMBED])
    axis = g.const("axis", np.array([1], np.int32))
    minus_two = g.const("minus_two", np.array([-2.0], np.float32))
    tokens = []
    for level in range(LEVELS):
        codebook = (rng.standard_normal((CODES, EMBED)) * 0.3 / (1 + level)).astype(np.float32)
        book = g.const(f"codebook{level}", codebook)
        dots = g.op(OPS.FULLY_CONNECTED, [residual, book, -1], [1, CODES], options=tw.fully_connected)
        dist = g.op(OPS.ADD, [g.op(OPS.MUL, [dots, minus_two], [1, CODES], options=tw.mul),
                              g.const(f"norms{level}", (codebook ** 2).sum(1).astype(np.float32))],
                    [1, CODES], options=tw.add)
        token = g.op(OPS.ARG_MIN, [dist, axis], [1], np.int32, options=tw.arg_min)
        chosen = g.op(OPS.GATHER, [book, token], [1, EMBED], options=tw.gather(0))
        residual = g.op(OPS.SUB, [residual, chosen], [1, EMBED], options=tw.sub)
        tokens.append(token)
    g.outputs.append(g.op(OPS.CONCATENATION, tokens, [LEVELS], np.int32, options=tw.concatenation(0), name="tokens"))
    return g


def custom_op():
    g = tw.Graph()
    x = g.input("x", [1, 4])
    g.outputs.append(g.op(OPS.CUSTOM, [x], [1, 4], custom="MysteryOp"))
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=pathlib.Path)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(8)
    vocab = train_vocabulary(out)
    (out / "spm.vocab").unlink(missing_ok=True)
    (out / "text_encoder.tflite").write_bytes(tw.serialize(text_encoder(vocab, rng)))
    (out / "quantizer.tflite").write_bytes(tw.serialize(quantizer(rng)))
    (out / "custom_op.tflite").write_bytes(tw.serialize(custom_op()))
    print(f"wrote {out}: vocabulary {vocab}, text encoder [1, {LENGTH}] -> [1, {EMBED}], {LEVELS} x {CODES} codes")


if __name__ == "__main__":
    main()
