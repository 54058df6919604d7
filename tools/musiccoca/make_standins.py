"""Builds the stand-in MusicCoCa files continuo's tests use, in place of Google's:

  text_encoder.tflite   SentencePiece ids [1, L] -> embedding [1, E]: a one-block transformer
  quantizer.tflite      embedding [1, E] -> 12 tokens: residual VQ, nearest codeword per level
  audio_preprocessor.tflite  16 kHz waveform [1, S] -> log-mel features [1, T, M]
  music_encoder.tflite  features [1, T, M] -> embedding [1, E]: a one-block transformer over patches
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
# The audio path: 16 kHz clips of SAMPLES, DFT frames of FRAME every HOP, BINS bins, MELS mel
# bands; the encoder takes patches of PATCH frames.
RATE, SAMPLES, FRAME, HOP, MELS, PATCH = 16000, 4096, 64, 32, 16, 4
BINS, FRAMES = FRAME // 2 + 1, SAMPLES // HOP
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


def heads(g, x, rows, tag):
    """[rows, W] -> [H, rows, W/H]."""
    split = g.op(OPS.RESHAPE, [x, g.const(f"{tag}/split", np.array([rows, HEADS, WIDTH // HEADS], np.int32))],
                 [rows, HEADS, WIDTH // HEADS])
    return g.op(OPS.TRANSPOSE, [split, g.const(f"{tag}/perm", np.array([1, 0, 2], np.int32))],
                [HEADS, rows, WIDTH // HEADS])


def block(g, x, rows, rng, prefix):
    """One pre-norm transformer block over [rows, WIDTH]: attention, then a GELU MLP."""
    h = layer_norm(g, x, rows, rng, f"{prefix}ln1")
    q, k, v = (heads(g, dense(g, h, rows, WIDTH, WIDTH, rng, prefix + n), rows, prefix + n) for n in ("q", "k", "v"))
    scores = g.op(OPS.BATCH_MATMUL, [q, k], [HEADS, rows, rows], options=tw.batch_matmul(False, True))
    scale = g.const(f"{prefix}scale", np.array([1 / np.sqrt(WIDTH // HEADS)], np.float32))
    scores = g.op(OPS.MUL, [scores, scale], [HEADS, rows, rows], options=tw.mul)
    weights = g.op(OPS.SOFTMAX, [scores], [HEADS, rows, rows], options=tw.softmax(1.0))
    mixed = g.op(OPS.BATCH_MATMUL, [weights, v], [HEADS, rows, WIDTH // HEADS], options=tw.batch_matmul(False, False))
    mixed = g.op(OPS.TRANSPOSE, [mixed, g.const(f"{prefix}unperm", np.array([1, 0, 2], np.int32))],
                 [rows, HEADS, WIDTH // HEADS])
    mixed = g.op(OPS.RESHAPE, [mixed, g.const(f"{prefix}merge", np.array([rows, WIDTH], np.int32))], [rows, WIDTH])
    x = g.op(OPS.ADD, [x, dense(g, mixed, rows, WIDTH, WIDTH, rng, f"{prefix}o")], [rows, WIDTH], options=tw.add)
    h = layer_norm(g, x, rows, rng, f"{prefix}ln2")
    h = g.op(OPS.GELU, [dense(g, h, rows, WIDTH, FF, rng, f"{prefix}ff1")], [rows, FF], options=tw.gelu(False))
    return g.op(OPS.ADD, [x, dense(g, h, rows, FF, WIDTH, rng, f"{prefix}ff2")], [rows, WIDTH], options=tw.add)


def pooled_embedding(g, x, rows, rng, prefix):
    """Mean over the rows, a projection, then unit length: the [1, EMBED] embedding."""
    pooled = g.op(OPS.MEAN, [x, g.const(f"{prefix}rows", np.array([0], np.int32))], [1, WIDTH], options=tw.reducer(True))
    pooled = g.op(OPS.TANH, [pooled], [1, WIDTH])
    y = dense(g, pooled, 1, WIDTH, EMBED, rng, f"{prefix}project")
    y = g.op(OPS.GELU, [y], [1, EMBED], options=tw.gelu(True))
    norm = g.op(OPS.SUM, [g.op(OPS.MUL, [y, y], [1, EMBED], options=tw.mul),
                          g.const(f"{prefix}last", np.array([1], np.int32))], [1, 1], options=tw.reducer(True))
    out = g.op(OPS.DIV, [y, g.op(OPS.SQRT, [norm], [1, 1])], [1, EMBED], options=tw.div, name="embedding")
    g.outputs.append(out)
    return g


def text_encoder(vocab, rng):
    g = tw.Graph()
    ids = g.input("ids", [1, LENGTH], np.int32)
    flat = g.op(OPS.RESHAPE, [ids, g.const("flat", np.array([LENGTH], np.int32))], [LENGTH], np.int32)
    table = g.const("embed", (0.5 * rng.standard_normal((vocab, WIDTH))).astype(np.float32))
    x = g.op(OPS.GATHER, [table, flat], [LENGTH, WIDTH], options=tw.gather(0))
    x = g.op(OPS.ADD, [x, g.const("pos", (0.1 * rng.standard_normal((LENGTH, WIDTH))).astype(np.float32))],
             [LENGTH, WIDTH], options=tw.add)
    return pooled_embedding(g, block(g, x, LENGTH, rng, ""), LENGTH, rng, "")


def mel_matrix():
    """[MELS, BINS]: triangles on the DFT bins, their centres evenly spaced in mel."""
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = hz(np.linspace(mel(0), mel(RATE / 2), MELS + 2)) / (RATE / 2) * (BINS - 1)
    bins = np.arange(BINS)
    rising = (bins[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - bins[None, :]) / (edges[2:, None] - edges[1:-1, None])
    return np.maximum(0, np.minimum(rising, falling)).astype(np.float32)


def audio_preprocessor():
    """Waveform [1, SAMPLES] at 16 kHz -> log-mel features [1, FRAMES, MELS]: centre padding,
    a windowed DFT as a strided CONV_2D, power from the real and imaginary halves, mel, log."""
    g = tw.Graph()
    wave = g.input("waveform", [1, SAMPLES])
    x = g.op(OPS.RESHAPE, [wave, g.const("image", np.array([1, 1, SAMPLES, 1], np.int32))], [1, 1, SAMPLES, 1])
    padded = SAMPLES + HOP
    x = g.op(OPS.PAD, [x, g.const("centre", np.array([[0, 0], [0, 0], [HOP // 2, HOP // 2], [0, 0]], np.int32))],
             [1, 1, padded, 1], options=tw.pad)
    n, k = np.arange(FRAME), np.arange(BINS)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / FRAME)
    dft = np.concatenate([window * np.cos(2 * np.pi * k * n / FRAME), -window * np.sin(2 * np.pi * k * n / FRAME)])
    filters = g.const("dft", dft.reshape(2 * BINS, 1, FRAME, 1).astype(np.float32))
    spectrum = g.op(OPS.CONV_2D, [x, filters, g.const("dft_bias", np.zeros(2 * BINS, np.float32))],
                    [1, 1, FRAMES, 2 * BINS], options=tw.conv_2d(1, HOP, False))
    ends = g.const("ends", np.array([0, 0, 0, BINS], np.int32))
    strides = g.const("strides", np.ones(4, np.int32))
    real = g.op(OPS.STRIDED_SLICE, [spectrum, g.const("real_begin", np.zeros(4, np.int32)), ends, strides],
                [1, FRAMES, BINS], options=tw.strided_slice(end_mask=0b0111, shrink_axis_mask=0b0010))
    imag = g.op(OPS.STRIDED_SLICE, [spectrum, g.const("imag_begin", np.array([0, 0, 0, -BINS], np.int32)), ends, strides],
                [1, FRAMES, BINS], options=tw.strided_slice(end_mask=0b1111, shrink_axis_mask=0b0010))
    power = g.op(OPS.ADD, [g.op(OPS.MUL, [real, real], [1, FRAMES, BINS], options=tw.mul),
                           g.op(OPS.MUL, [imag, imag], [1, FRAMES, BINS], options=tw.mul)], [1, FRAMES, BINS], options=tw.add)
    mel = g.op(OPS.FULLY_CONNECTED, [power, g.const("mel", mel_matrix()), -1], [FRAMES, MELS], options=tw.fully_connected)
    mel = g.op(OPS.MAXIMUM, [mel, g.const("floor", np.array([1e-6], np.float32))], [FRAMES, MELS], options=tw.maximum)
    log_mel = g.op(OPS.LOG, [mel], [FRAMES, MELS])
    g.outputs.append(g.op(OPS.RESHAPE, [log_mel, g.const("batch", np.array([1, FRAMES, MELS], np.int32))],
                          [1, FRAMES, MELS], name="features"))
    return g


def music_encoder(rng):
    """Log-mel features [1, FRAMES, MELS] -> embedding [1, EMBED]: patches of PATCH frames, a
    transformer block over them, mean pooling (the text encoder's tail)."""
    g = tw.Graph()
    features = g.input("features", [1, FRAMES, MELS])
    patches = FRAMES // PATCH
    x = g.op(OPS.RESHAPE, [features, g.const("patches", np.array([patches, PATCH * MELS], np.int32))],
             [patches, PATCH * MELS])
    x = dense(g, x, patches, PATCH * MELS, WIDTH, rng, "audio/patch")
    x = g.op(OPS.ADD, [x, g.const("audio/pos", (0.1 * rng.standard_normal((patches, WIDTH))).astype(np.float32))],
             [patches, WIDTH], options=tw.add)
    return pooled_embedding(g, block(g, x, patches, rng, "audio/"), patches, rng, "audio/")


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
    (out / "audio_preprocessor.tflite").write_bytes(tw.serialize(audio_preprocessor()))
    # Its own generator, so the text files stay as they were.
    (out / "music_encoder.tflite").write_bytes(tw.serialize(music_encoder(np.random.default_rng(16))))
    print(f"wrote {out}: vocabulary {vocab}, text encoder [1, {LENGTH}] -> [1, {EMBED}], {LEVELS} x {CODES} codes")


if __name__ == "__main__":
    main()
