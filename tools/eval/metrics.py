"""Audio metrics for the default model's evaluation (docs/models.md, issue 6).

Every function takes float audio [frames, channels] or mono [frames] at `rate` Hz.
"""

import numpy as np

from spectra import chroma, mel_filterbank, mono, stft_magnitude

# (fft size, hop, mel bands): the resolutions of a multi-resolution mel distance.
MEL_RESOLUTIONS = ((512, 128, 64), (1024, 256, 80), (2048, 512, 128))
_LOG_FLOOR = 1e-5


def multires_mel_distance(reference, estimate, rate):
  """Mean over resolutions of the mean |log mel(reference) − log mel(estimate)| (natural log)."""
  ref, est = _aligned(mono(reference), mono(estimate))
  distances = []
  for fft_size, hop, bands in MEL_RESOLUTIONS:
    bank = mel_filterbank(rate, fft_size, bands)
    log_mel = lambda x: np.log(np.maximum(_LOG_FLOOR, stft_magnitude(x, fft_size, hop) @ bank.T))
    distances.append(np.mean(np.abs(log_mel(ref) - log_mel(est))))
  return float(np.mean(distances))


def si_sdr(reference, estimate):
  """Scale-invariant signal-to-distortion ratio in dB (higher is better)."""
  ref, est = _aligned(mono(reference), mono(estimate))
  ref = ref - ref.mean()
  est = est - est.mean()
  target = (est @ ref) / max(ref @ ref, 1e-20) * ref
  noise = est - target
  return float(10.0 * np.log10(max(target @ target, 1e-20) / max(noise @ noise, 1e-20)))


def loudness_db(audio):
  """RMS level of the mono mix in dBFS (−120 for digital silence)."""
  rms = np.sqrt(np.mean(mono(audio) ** 2)) if len(audio) else 0.0
  return float(20.0 * np.log10(max(rms, 1e-6)))


def spectral_flatness(audio, fft_size=2048, hop=512):
  """Mean over frames of geometric/arithmetic mean of the power spectrum: ~0 tonal, →1 white noise."""
  power = stft_magnitude(mono(audio), fft_size, hop) ** 2 + 1e-12
  return float(np.mean(np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)))


def seam_jumps(audio, frame_samples):
  """Sample-to-sample jumps at frame seams against those inside frames.

  A decoder that glues frames badly clicks at every seam: the jump |x[n] − x[n−1]| at
  n = k·frame_samples then sits in the tail of the distribution of jumps elsewhere.
  Returns the seams' median and the interior's median and 99th percentile, and the
  fraction of seams above the interior's 99th percentile (≈ 0.01 when seams are like
  any other sample).
  """
  audio = np.asarray(audio, dtype=np.float64)
  audio = audio[:, None] if audio.ndim == 1 else audio
  jumps = np.abs(np.diff(audio, axis=0)).max(axis=1)  # jumps[n-1] = |x[n] - x[n-1]|
  at_seam = np.zeros(len(jumps), dtype=bool)
  at_seam[frame_samples - 1::frame_samples] = True
  interior_p99 = float(np.percentile(jumps[~at_seam], 99))
  return {
      'seam_median': float(np.median(jumps[at_seam])),
      'interior_median': float(np.median(jumps[~at_seam])),
      'interior_p99': interior_p99,
      'seams_above_interior_p99': float(np.mean(jumps[at_seam] > interior_p99)),
  }


def periodic_buzz(audio, rate, period_samples, harmonics=40, line_hz=1.0, gap_hz=20.0):
  """How much a signal buzzes at rate/period_samples Hz: the mean power density within
  line_hz of its first `harmonics` multiples against that between them (gap_hz clear of each
  line). A frame-based decoder whose frames do not join (an STFT decoder's hop, a codec's
  frame) puts a comb of lines there, which sounds as a buzz and, at 100 Hz (hop 480 at 48 kHz),
  lands on G, B and D whatever was played; music has no reason to favour those lines (≈ 1)."""
  x = mono(audio)
  base = rate / period_samples
  if len(x) < 2 * rate / line_hz or base <= 2 * gap_hz:  # bins of line_hz / 2 at most
    raise ValueError(f'{len(x) / rate:.2f} s at {rate} Hz cannot resolve lines {base:.1f} Hz apart '
                     f'to {line_hz} Hz (need {2 / line_hz:.1f} s)')
  power = np.abs(np.fft.rfft(x)) ** 2
  freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
  on = off = 0.0
  on_bins = off_bins = 0
  for k in range(1, harmonics + 1):
    if (k + 1) * base >= rate / 2:
      break
    line = np.abs(freqs - k * base) <= line_hz
    between = (freqs >= k * base + gap_hz) & (freqs <= (k + 1) * base - gap_hz)
    on, on_bins = on + power[line].sum(), on_bins + int(line.sum())
    off, off_bins = off + power[between].sum(), off_bins + int(between.sum())
  return float((on / on_bins) / max(off / off_bins, 1e-30))


def chroma_adherence(audio, rate, held_pitch_classes, relative_threshold=0.5):
  """Precision and recall of the pitch classes heard against those held.

  Per chroma frame, the heard classes are those with at least `relative_threshold` of the
  frame's strongest class; held_pitch_classes(time_seconds) gives the set held then (frames
  with nothing held or a silent output are skipped). Precision: heard classes that are held;
  recall: held classes that are heard; both pooled over frames.
  """
  hop = 2048
  frames = chroma(mono(audio), rate, hop=hop)
  true_positive = heard = held_total = 0
  for index, row in enumerate(frames):
    held = held_pitch_classes((index * hop + 4096) / rate)  # the window's centre
    if not held or row.max() <= 1e-10:
      continue
    detected = set(np.flatnonzero(row >= relative_threshold * row.max()).tolist())
    true_positive += len(detected & held)
    heard += len(detected)
    held_total += len(held)
  if held_total == 0:
    raise ValueError('no frame holds a note and has sound: nothing to measure')
  return {'precision': true_positive / max(heard, 1), 'recall': true_positive / held_total}


def labelled_pitch_classes(notes, frame_rate):
  """held_pitch_classes for chroma_adherence from a clip's per-frame note labels
  (uint8 [frames, 128], non-zero = sounding; tools/train/data)."""
  def held(seconds):
    frame = min(int(seconds * frame_rate), len(notes) - 1)
    return set((np.flatnonzero(notes[frame]) % 12).tolist())
  return held


def _aligned(a, b):
  n = min(len(a), len(b))
  return a[:n], b[:n]
