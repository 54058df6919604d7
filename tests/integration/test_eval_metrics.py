#!/usr/bin/env python3
"""tools/eval: the default model's evaluation metrics on signals whose answer is known."""

import sys
import tempfile
import unittest
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools' / 'eval'))
import metrics  # noqa: E402
import evaluate  # noqa: E402
import style_classifier  # noqa: E402
import wav  # noqa: E402

RATE = 48000


def tone(midi_pitches, seconds, rate=RATE, harmonics=4):
  t = np.arange(int(seconds * rate)) / rate
  out = np.zeros_like(t)
  for pitch in midi_pitches:
    hz = 440.0 * 2 ** ((pitch - 69) / 12)
    out += sum(np.sin(2 * np.pi * hz * h * t) / h**2 for h in range(1, harmonics + 1))
  return 0.2 * out / len(midi_pitches)


class WavTest(unittest.TestCase):

  def test_float_round_trip_and_pcm16(self):
    with tempfile.TemporaryDirectory() as d:
      audio = np.random.default_rng(0).uniform(-1, 1, (1000, 2)).astype(np.float32)
      wav.write_float(Path(d) / 'f.wav', audio, RATE)
      back, rate = wav.read(Path(d) / 'f.wav')
      self.assertEqual(rate, RATE)
      np.testing.assert_array_equal(back, audio)
      with wave.open(str(Path(d) / 'p.wav'), 'wb') as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(np.array([0, 16384, -32768], dtype='<i2').tobytes())
      back, rate = wav.read(Path(d) / 'p.wav')
      self.assertEqual((rate, back.shape), (22050, (3, 1)))
      np.testing.assert_array_equal(back[:, 0], [0.0, 0.5, -1.0])
      (Path(d) / 'bad.wav').write_bytes(b'RIFF1234WAVEjunk')
      with self.assertRaisesRegex(wav.WavError, 'bad.wav: no data chunk'):
        wav.read(Path(d) / 'bad.wav')


class CodecMetricsTest(unittest.TestCase):

  def setUp(self):
    self.music = tone([60, 64, 67], 2.0)
    self.noise = np.random.default_rng(1).normal(0, 1, len(self.music))

  def test_si_sdr(self):
    self.assertGreater(metrics.si_sdr(self.music, 0.3 * self.music), 100)
    scaled_noise = self.noise * np.sqrt(np.mean(self.music**2) / np.mean(self.noise**2)) / 10
    self.assertAlmostEqual(metrics.si_sdr(self.music, self.music + scaled_noise), 20.0, delta=0.3)

  def test_mel_distance(self):
    self.assertEqual(metrics.multires_mel_distance(self.music, self.music, RATE), 0.0)
    near = metrics.multires_mel_distance(self.music, self.music + 1e-3 * self.noise, RATE)
    far = metrics.multires_mel_distance(self.music, 0.1 * self.noise, RATE)
    self.assertLess(near, far)
    self.assertGreater(far, 1.0)


class ContinuityMetricsTest(unittest.TestCase):

  def test_loudness_and_flatness(self):
    sine = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    self.assertAlmostEqual(metrics.loudness_db(sine), -3.01, delta=0.01)
    self.assertEqual(metrics.loudness_db(np.zeros(RATE)), -120.0)
    self.assertLess(metrics.spectral_flatness(sine), 0.01)
    self.assertGreater(metrics.spectral_flatness(np.random.default_rng(2).normal(0, 1, RATE)), 0.5)

  def test_seams(self):
    frame = 1920
    # Tones off the 25 Hz frame grid and noise, so seams fall on every phase.
    t = np.arange(4 * RATE) / RATE
    smooth = sum(np.sin(2 * np.pi * hz * t) for hz in (213.7, 331.1, 517.3)) / 4
    smooth += np.random.default_rng(4).normal(0, 0.01, len(t))
    self.assertLess(metrics.seam_jumps(smooth, frame)['seams_above_interior_p99'], 0.05)
    offsets = np.repeat(np.resize([0.0, 0.3], len(smooth) // frame + 1), frame)[:len(smooth)]
    clicky = metrics.seam_jumps(smooth + offsets, frame)
    self.assertGreater(clicky['seams_above_interior_p99'], 0.95)
    self.assertGreater(clicky['seam_median'], 10 * clicky['interior_median'])


class PeriodicBuzzTest(unittest.TestCase):

  def test_a_hop_rate_comb_buzzes_and_noise_does_not(self):
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.1, 4 * RATE)
    clicks = noise.copy()
    clicks[::480] += 1.0  # a jump at every 480-sample hop: lines at k·100 Hz
    self.assertLess(metrics.periodic_buzz(noise, RATE, 480), 2.0)
    self.assertGreater(metrics.periodic_buzz(clicks, RATE, 480), 5.0)

  def test_music_off_the_lines_does_not_buzz(self):
    self.assertLess(metrics.periodic_buzz(tone([61, 66, 70], 4.0), RATE, 480), 2.0)

  def test_too_short_to_resolve_is_an_error(self):
    with self.assertRaisesRegex(ValueError, 'cannot resolve'):
      metrics.periodic_buzz(np.zeros(100), RATE, 480)


class ChromaAdherenceTest(unittest.TestCase):

  def test_held_chord_is_heard(self):
    c_major = tone([48, 52, 55, 60], 3.0)
    held = lambda seconds: {0, 4, 7}
    result = metrics.chroma_adherence(c_major, RATE, held)
    self.assertGreaterEqual(result['precision'], 0.9)
    self.assertGreaterEqual(result['recall'], 0.9)
    wrong = metrics.chroma_adherence(c_major, RATE, lambda seconds: {2, 6, 9})
    self.assertLess(wrong['precision'], 0.2)

  def test_labels_give_the_held_classes_per_frame(self):
    notes = np.zeros((50, 128), np.uint8)
    notes[:25, [48, 52, 55]] = 1      # C major for the first second (25 frames)
    notes[25:, [50, 62]] = (2, 1)     # then D in two octaves, one an onset
    held = metrics.labelled_pitch_classes(notes, 25.0)
    self.assertEqual(held(0.5), {0, 4, 7})
    self.assertEqual(held(1.5), {2})
    self.assertEqual(held(9.0), {2})  # past the labels: the last frame's
    c_then_d = np.concatenate([tone([48, 52, 55], 1.0), tone([50, 62], 1.0)])
    result = metrics.chroma_adherence(c_then_d, RATE, held)
    self.assertGreaterEqual(result['recall'], 0.8)

  def test_nothing_held_is_an_error(self):
    with self.assertRaisesRegex(ValueError, 'nothing to measure'):
      metrics.chroma_adherence(tone([60], 1.0), RATE, lambda seconds: set())


class StyleClassifierTest(unittest.TestCase):

  def test_separates_two_synthetic_styles(self):
    rng = np.random.default_rng(3)
    drone = lambda: tone([int(rng.integers(36, 48))], 1.5)
    bursts = lambda: rng.normal(0, 0.2, int(1.5 * RATE)) * (np.arange(int(1.5 * RATE)) % 12000 < 1500)
    rows = [style_classifier.features(make(), RATE) for make in [drone] * 6 + [bursts] * 6]
    model = style_classifier.StyleClassifier.fit(rows, [0] * 6 + [1] * 6, ['drone', 'bursts'])
    held_out = [style_classifier.features(make(), RATE) for make in (drone, bursts, drone, bursts)]
    np.testing.assert_array_equal(model.predict(held_out), [0, 1, 0, 1])
    with tempfile.TemporaryDirectory() as d:
      model.save(Path(d) / 'm.npz')
      again = style_classifier.StyleClassifier.load(Path(d) / 'm.npz')
      self.assertEqual(again.styles, ['drone', 'bursts'])
      np.testing.assert_array_equal(again.predict(held_out), [0, 1, 0, 1])

  def test_rhythm_tells_apart_equal_densities(self):
    """Noise bursts twice a second, evenly or in pairs: the same spectrum, level and onset
    count; only the rhythm differs."""
    def bursts(starts, rng):
      out = np.zeros(int(4.0 * RATE))
      for start in starts:
        begin = int(start * RATE)
        out[begin:begin + 2400] = rng.normal(0, 0.2, 2400)
      return out
    rng = np.random.default_rng(5)
    even = lambda: bursts(np.arange(0.0, 4.0, 0.5) + rng.uniform(0, 0.01), rng)
    pairs = lambda: bursts(np.concatenate([[t, t + 0.125] for t in np.arange(0.0, 4.0, 1.0)]) + rng.uniform(0, 0.01), rng)
    half_second = len(style_classifier._RHYTHM_LAGS) - list(style_classifier._RHYTHM_LAGS).index(47)
    # 47 hops of 512 samples: 0.50 s, the even bursts' period; the rhythm lags end the features.
    self.assertGreater(style_classifier.features(even(), RATE)[-half_second], 0.5)
    self.assertLess(style_classifier.features(pairs(), RATE)[-half_second], 0.2)
    rows = [style_classifier.features(make(), RATE) for make in [even] * 6 + [pairs] * 6]
    model = style_classifier.StyleClassifier.fit(rows, [0] * 6 + [1] * 6, ['even', 'pairs'])
    held_out = [style_classifier.features(make(), RATE) for make in (even, pairs, pairs, even)]
    np.testing.assert_array_equal(model.predict(held_out), [0, 1, 1, 0])

  def test_level_does_not_change_the_envelope_shape(self):
    chord = tone([48, 52, 55], 2.0)
    loud, quiet = style_classifier.features(chord, RATE), style_classifier.features(0.1 * chord, RATE)
    np.testing.assert_allclose(quiet[:40], loud[:40], atol=1e-3)

  def test_heldout_accuracy_is_measured_on_unseen_clips(self):
    rng = np.random.default_rng(3)
    rows = rng.normal(0, 1, (20, 4))
    separable = rows + np.where(np.arange(20) % 2 == 0, 4.0, -4.0)[:, None]
    labels = list(np.arange(20) % 2)
    self.assertEqual(evaluate.heldout_accuracy(separable, labels, ['a', 'b']), 1.0)
    # Labels unrelated to the rows: fitted clips are learnt, unseen ones are chance.
    noise_labels = list(rng.integers(0, 2, 20))
    self.assertLess(evaluate.heldout_accuracy(rows, noise_labels, ['a', 'b']), 0.8)


if __name__ == '__main__':
  unittest.main()
