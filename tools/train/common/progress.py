"""Progress lines on stderr for long runs: step, losses, steps/s, items/s, ETA.

  progress = Progress(total_steps=5000, start_step=step, items_per_step=8 * 2.0, items='audio s')
  progress.update(step, {'loss': 1.23, 'mel': 0.8})   # prints at most every `every` seconds
  progress.update(step, metrics, force=True)          # prints now (checkpoints, the end)

`unit` names a step in the line ('step 120/5000, ... 3.4 steps/s'; unit='clip' for a pass over clips).

Rates count from the first update of this process, so a resumed run reports its own speed.
"""

from __future__ import annotations

import sys
import time


def format_duration(seconds: float) -> str:
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class Progress:

  def __init__(self, total_steps: int | None = None, *, start_step: int = 0, items_per_step: float = 0.0,
               items: str = 'items', unit: str = 'step', every: float = 5.0, stream=None):
    self.unit = unit  # what a step is called: 'step', 'clip', ...
    self.total_steps, self.items_per_step, self.items, self.every = total_steps, items_per_step, items, every
    self.stream = stream or sys.stderr
    self.start_step, self.start_time = start_step, time.monotonic()
    self.last_print = self.start_time

  def steps_per_second(self, step: int) -> float:
    elapsed = time.monotonic() - self.start_time
    return (step - self.start_step) / elapsed if elapsed > 0 else 0.0

  def line(self, step: int, metrics: dict[str, float]) -> str:
    rate = self.steps_per_second(step)
    parts = [f'{self.unit} {step}' + (f'/{self.total_steps}' if self.total_steps else '')]
    parts += [f'{k} {v:.4g}' for k, v in metrics.items()]
    parts.append(f'{rate:.3g} {self.unit}s/s')
    if self.items_per_step:
      parts.append(f'{rate * self.items_per_step:.3g} {self.items}/s')
    if self.total_steps and rate > 0:
      parts.append(f'ETA {format_duration((self.total_steps - step) / rate)}')
    return ', '.join(parts)

  def update(self, step: int, metrics: dict[str, float], *, force: bool = False) -> None:
    now = time.monotonic()
    if force or now - self.last_print >= self.every:
      self.last_print = now
      print(self.line(step, metrics), file=self.stream, flush=True)
