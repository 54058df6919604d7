"""A simple style classifier for the style-adherence evaluation (issue 6).

Trained on rendered ground-truth audio of each style (tools/train/data), it tells which
style a generated clip sounds like. Features are clip-level statistics a listener would
also use: the shape of the average spectral envelope (log mel, its level removed), its
variation, the chroma profile, the onset density and the rhythm (the onset strength's
autocorrelation over beat-length lags, which tells a house four-on-the-floor from a reggae
offbeat at the same density). The level is removed because a render's loudness follows the
volume setting and the codec's gain, not the style. The classifier is multinomial logistic
regression on standardised features, fitted by full-batch gradient descent (NumPy only,
deterministic).
"""

import numpy as np

from spectra import chroma, mel_filterbank, mono, stft_magnitude

_FFT, _HOP, _BANDS = 2048, 512, 40
_FLOOR = 1e-4  # of the clip's strongest mel band and frame: -80 dB
# Onset-strength autocorrelation lags in hops of 512 samples at 48 kHz: 53 ms to 0.64 s, the
# spacing of eighths to half notes between 47 and 280 bpm.
_RHYTHM_LAGS = np.arange(5, 61, 2)


def features(audio, rate):
  """Clip features: log-mel shape and std (2×40), chroma profile (12), onset density (1),
  rhythm (28 autocorrelation lags)."""
  signal = mono(audio)
  magnitude = stft_magnitude(signal, _FFT, _HOP)
  mel = magnitude @ mel_filterbank(rate, _FFT, _BANDS).T
  log_mel = np.log(_FLOOR * mel.max() + mel + 1e-12)  # the floor follows the level
  envelope = log_mel.mean(axis=0)
  profile = chroma(signal, rate).sum(axis=0)
  profile = profile / max(profile.sum(), 1e-12)
  flux = np.maximum(0.0, np.diff(log_mel, axis=0)).sum(axis=1)
  onset_density = np.mean(flux > flux.mean() + 2 * flux.std()) if len(flux) else 0.0
  return np.concatenate([envelope - envelope.mean(), log_mel.std(axis=0), profile, [onset_density],
                         rhythm(flux)])


def rhythm(onset_strength):
  """Normalised autocorrelation of the onset strength at _RHYTHM_LAGS (zeros where too short
  or constant)."""
  x = onset_strength - onset_strength.mean() if len(onset_strength) else onset_strength
  energy = float(x @ x)
  lags = np.zeros(len(_RHYTHM_LAGS))
  if energy <= 0.0:
    return lags
  for i, lag in enumerate(_RHYTHM_LAGS):
    if lag < len(x):
      lags[i] = float(x[:-lag] @ x[lag:]) / energy
  return lags


class StyleClassifier:

  def __init__(self, mean, scale, weights, bias, styles):
    self.mean, self.scale, self.weights, self.bias, self.styles = mean, scale, weights, bias, list(styles)

  @classmethod
  def fit(cls, feature_rows, labels, styles, steps=2000, learning_rate=0.5, l2=1e-3):
    x = np.asarray(feature_rows, dtype=np.float64)
    y = np.asarray(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-8
    x = (x - mean) / scale
    onehot = np.eye(len(styles))[y]
    weights = np.zeros((x.shape[1], len(styles)))
    bias = np.zeros(len(styles))
    for _ in range(steps):
      p = _softmax(x @ weights + bias)
      weights -= learning_rate * (x.T @ (p - onehot) / len(x) + l2 * weights)
      bias -= learning_rate * (p - onehot).mean(axis=0)
    return cls(mean, scale, weights, bias, styles)

  def predict(self, feature_rows):
    x = (np.asarray(feature_rows, dtype=np.float64) - self.mean) / self.scale
    return np.argmax(x @ self.weights + self.bias, axis=1)

  def save(self, path):
    np.savez(path, mean=self.mean, scale=self.scale, weights=self.weights, bias=self.bias,
             styles=np.array(self.styles))

  @classmethod
  def load(cls, path):
    z = np.load(path)
    return cls(z['mean'], z['scale'], z['weights'], z['bias'], z['styles'].tolist())


def _softmax(logits):
  e = np.exp(logits - logits.max(axis=1, keepdims=True))
  return e / e.sum(axis=1, keepdims=True)
