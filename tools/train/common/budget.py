"""A wall-time budget for one training call (--fit-minutes), for the GPU machine's calls of at
most 10 minutes: a cosine schedule cut off by the clock stops at a high learning rate, so the
budget times a few steps, then lowers the run's total steps to what the rest of the call can
finish, and the schedule ends on time.

  budget = TimeBudget(args.fit_minutes, start_step)
  ...after each optimizer step:
  if budget.lower_steps(step, args): ...   # args.steps lowered (once): the schedule follows it
  if budget.out_of_time(): save and stop   # the estimate was wrong: stop resumable anyway
"""

from __future__ import annotations

import sys
import time

SKIPPED_STEPS = 2  # not timed: the first steps pay for allocation, autotuning and caches
TIMED_STEPS = 20  # or fewer, once they have taken TIMED_SHARE of the budget (slow steps on a CPU)
TIMED_SHARE = 0.05
MARGIN = 0.85  # of the time left, for validation, evaluation and saves after the last step


class TimeBudget:

  def __init__(self, minutes: float, start_step: int, clock=time.monotonic):
    self.clock = clock
    self.seconds = 60.0 * minutes
    self.deadline = clock() + self.seconds
    self.start_step = start_step
    self.timing_began = None
    self.fitted = False

  def _fitted_steps(self, step: int, total_steps: int) -> int | None:
    """The total steps that fit, once the steps after the skipped ones are timed."""
    done = step - self.start_step
    if self.fitted or done < SKIPPED_STEPS:
      return None
    now = self.clock()
    if self.timing_began is None:
      self.timing_began = now
      return None
    timed = done - SKIPPED_STEPS
    if timed < TIMED_STEPS and now - self.timing_began < TIMED_SHARE * self.seconds:
      return None
    self.fitted = True
    seconds_per_step = (now - self.timing_began) / timed
    more = int(MARGIN * max(0.0, self.deadline - now) / seconds_per_step)
    return min(total_steps, step + more)

  def out_of_time(self) -> bool:
    return self.clock() >= self.deadline

  def lower_steps(self, step: int, args) -> bool:
    """Lowers args.steps (and says so) once the steps are timed; True when it did."""
    fitted = self._fitted_steps(step, args.steps)
    if fitted is None or fitted >= args.steps:
      return False
    args.steps = fitted
    inside_warmup = f' (inside the --warmup of {args.warmup})' if fitted <= args.warmup else ''
    print(f'--fit-minutes {args.fit_minutes}: the run ends at step {fitted}{inside_warmup}',
          file=sys.stderr, flush=True)
    return True
