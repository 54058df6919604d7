#!/usr/bin/env python3
"""tools/train/common/budget.py: --fit-minutes lowers a run's steps to what the call's time
holds, from steps it has timed, once; on a clock the test sets."""

import argparse
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools' / 'train'))
from common import budget as budget_module  # noqa: E402
from common.budget import TimeBudget  # noqa: E402


class FakeClock:

  def __init__(self):
    self.now = 1000.0

  def __call__(self):
    return self.now


def run_steps(budget, clock, args, first, last, seconds_per_step):
  """Steps first..last, each taking seconds_per_step; the steps at which args.steps was lowered."""
  lowered = []
  for step in range(first, last + 1):
    clock.now += seconds_per_step
    if budget.lower_steps(step, args):
      lowered.append(step)
  return lowered


class TimeBudgetTest(unittest.TestCase):

  def setUp(self):
    self.clock = FakeClock()
    self.args = argparse.Namespace(steps=100000, warmup=200, fit_minutes=10.0)

  def test_lowers_the_steps_to_what_the_time_left_holds(self):
    budget = TimeBudget(10.0, start_step=0, clock=self.clock)
    # 0.5 s a step: after the skipped and the timed steps, 600 - 0.5 * end s are left.
    end = budget_module.SKIPPED_STEPS + budget_module.TIMED_STEPS
    lowered = run_steps(budget, self.clock, self.args, 1, end, 0.5)
    self.assertEqual(lowered, [end])
    self.assertEqual(self.args.steps, end + int(budget_module.MARGIN * (600 - 0.5 * end) / 0.5))

  def test_slow_first_steps_are_not_timed(self):
    budget = TimeBudget(10.0, start_step=0, clock=self.clock)
    for step in range(1, budget_module.SKIPPED_STEPS + 1):
      self.clock.now += 30.0  # compilation and allocation
      self.assertFalse(budget.lower_steps(step, self.args))
    end = budget_module.SKIPPED_STEPS + budget_module.TIMED_STEPS
    run_steps(budget, self.clock, self.args, budget_module.SKIPPED_STEPS + 1, end, 1.0)
    left = 600.0 - 30.0 * budget_module.SKIPPED_STEPS - budget_module.TIMED_STEPS * 1.0
    self.assertEqual(self.args.steps, end + int(budget_module.MARGIN * left / 1.0))

  def test_slow_steps_are_timed_for_a_share_of_the_budget_only(self):
    budget = TimeBudget(10.0, start_step=0, clock=self.clock)
    # 20 s a step: 30 s (5 %) are timed after the 2 skipped steps, so step 4 fits.
    lowered = run_steps(budget, self.clock, self.args, 1, 10, 20.0)
    first_fit = budget_module.SKIPPED_STEPS + 2
    self.assertEqual(lowered, [first_fit])
    self.assertEqual(self.args.steps, first_fit + int(budget_module.MARGIN * (600 - 20.0 * first_fit) / 20.0))

  def test_counts_from_a_resumed_step_and_fits_once(self):
    budget = TimeBudget(10.0, start_step=3000, clock=self.clock)
    lowered = run_steps(budget, self.clock, self.args, 3001, 3200, 0.1)
    self.assertEqual(lowered, [3000 + budget_module.SKIPPED_STEPS + budget_module.TIMED_STEPS])

  def test_never_raises_the_steps(self):
    self.args.steps = 40
    budget = TimeBudget(10.0, start_step=0, clock=self.clock)
    self.assertEqual(run_steps(budget, self.clock, self.args, 1, 40, 0.01), [])
    self.assertEqual(self.args.steps, 40)

  def test_out_of_time_at_the_deadline(self):
    budget = TimeBudget(1.0, start_step=0, clock=self.clock)
    self.clock.now += 59.9
    self.assertFalse(budget.out_of_time())
    self.clock.now += 0.1
    self.assertTrue(budget.out_of_time())


if __name__ == '__main__':
  unittest.main()
