"""Command-line helpers of the training scripts.

  parse_set(['levels=12', 'mults=(1,2)'])  -> {'levels': 12, 'mults': (1, 2)} (Python literals)
  refuse(prog, message)                     prints 'prog: error: message', exits 2 (before compute)
  StopRequest()                             SIGINT/SIGTERM set .requested instead of killing, so
                                            the loop checkpoints and exits; a second signal kills
"""

from __future__ import annotations

import ast
import signal
import sys


def parse_set(items: list[str]) -> dict:
  out = {}
  for item in items:
    key, sep, value = item.partition('=')
    if not sep or not key:
      raise ValueError(f'--set {item!r}: expected KEY=VALUE')
    try:
      out[key] = ast.literal_eval(value)
    except (ValueError, SyntaxError) as e:
      raise ValueError(f'--set {item!r}: {value!r} is not a Python literal') from e
  return out


def refuse(prog: str, message: str) -> None:
  print(f'{prog}: error: {message}', file=sys.stderr)
  sys.exit(2)


class StopRequest:
  """Turns the first SIGINT/SIGTERM into a flag the training loop polls."""

  def __init__(self):
    self.requested = None  # the signal's name once one arrived
    for sig in (signal.SIGINT, signal.SIGTERM):
      signal.signal(sig, self._handle)

  def _handle(self, signum, frame):
    if self.requested:  # the second one: the user means it
      signal.signal(signum, signal.SIG_DFL)
      signal.raise_signal(signum)
    self.requested = signal.Signals(signum).name
    print(f'\n{self.requested}: saving the training state, then stopping (again to abort)',
          file=sys.stderr, flush=True)
