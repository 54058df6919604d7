"""A simple style classifier for the style-adherence evaluation (issue 6).

Trained on rendered ground-truth audio of each style (tools/train/data), it tells which
style a generated clip sounds like. Features are clip-level statistics a listener would
also use: the average spectral envelope (log mel), its variation, the chroma profile and
the onset density. The classifier is multinomial logistic regression on standardised
features, fitted by full-batch gradient descent (NumPy only, deterministic).
"""

import numpy as np

from spectra import chroma, mel_filterbank, mono, stft_magnitude

_FFT, _HOP, _BANDS = 2048, 512, 40


def features(audio, rate):
  """Clip features: log-mel mean and std (2×40), chroma profile (12), onset density (1)."""
  signal = mono(audio)
  magnitude = stft_magnitude(signal, _FFT, _HOP)
  log_mel = np.log(1e-5 + magnitude @ mel_filterbank(rate, _FFT, _BANDS).T)
  profile = chroma(signal, rate).sum(axis=0)
  profile = profile / max(profile.sum(), 1e-12)
  flux = np.maximum(0.0, np.diff(log_mel, axis=0)).sum(axis=1)
  onset_density = np.mean(flux > flux.mean() + 2 * flux.std()) if len(flux) else 0.0
  return np.concatenate([log_mel.mean(axis=0), log_mel.std(axis=0), profile, [onset_density]])


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
