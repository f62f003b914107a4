"""Invalid timings raise ValueError naming the field."""

from __future__ import annotations

import jax
import pytest

from ghostmech.tasks import DelayedActivation, DelayedCueDiscrimination, DelayedMatchToSample


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: DelayedActivation(delay=0), "delay"),
        (lambda: DelayedActivation(delay=-5), "delay"),
        (lambda: DelayedActivation(response=2.5), "response"),
        (lambda: DelayedActivation(delay=20.0), "delay"),
        (lambda: DelayedActivation(delay=True), "delay"),
        (lambda: DelayedCueDiscrimination(input=0), "input"),
        (lambda: DelayedCueDiscrimination(delay=0), "delay"),
        (lambda: DelayedMatchToSample(response=-1), "response"),
        (lambda: DelayedMatchToSample(delay="10"), "delay"),
        (lambda: DelayedCueDiscrimination.from_ms(input=7, delay=50, response=50), "input"),
        (lambda: DelayedCueDiscrimination.from_ms(input=10, delay=-50, response=50), "delay"),
        (lambda: DelayedMatchToSample.from_ms(input=10, delay=0, response=50), "delay"),
        (lambda: DelayedActivation.from_ms(dt_ms=0.0, delay=10), "dt_ms"),
        (lambda: DelayedActivation.from_ms(delay=10, input=5), "input"),
        (lambda: DelayedActivation().repeat_trials(0), "n_per_type"),
        (lambda: DelayedActivation().sample(key=jax.random.key(0), batch=0), "batch"),
    ],
)
def test_bad_timing_names_the_field(make, field):
    with pytest.raises(ValueError, match=f"`{field}`"):
        make()
