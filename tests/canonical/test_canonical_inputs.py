"""Bad arguments raise ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from ghostmech.canonical import critical_lr, loss, loss_grad, optimum, point_of_no_return

BAD_LOSS_ARGS = [
    (dict(T=0.0), "`T`"),
    (dict(T=-5.0), "`T`"),
    (dict(T=float("inf")), "`T`"),
    (dict(T="100"), "`T`"),
    (dict(R=-1.0), "`R`"),
    (dict(R=float("nan")), "`R`"),
    (dict(beta=0.0), "`beta`"),
    (dict(beta=-1.0), "`beta`"),
    (dict(beta=1.0, x_theta=0.0), "`x_theta`"),
    (dict(scale="mean"), "`scale`"),
    (dict(method="rk4"), "`method`"),
    (dict(dt=0.0), "`dt`"),
    (dict(clip=-1.0), "`clip`"),
    (dict(eps="small"), "`eps`"),
    (dict(eps=None), "`eps`"),
]


@pytest.mark.parametrize("fn", [loss, loss_grad])
@pytest.mark.parametrize("kwargs, match", BAD_LOSS_ARGS)
def test_bad_loss_arguments(fn, kwargs, match):
    args = dict(eps=1e-4, T=100.0) | kwargs
    with pytest.raises(ValueError, match=match):
        fn(**args)


@pytest.mark.parametrize("fn", [optimum, point_of_no_return, critical_lr])
@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), None, [100.0]])
def test_bad_delay(fn, T):
    with pytest.raises(ValueError, match="`T`"):
        fn(T)


def test_bad_window_and_scale():
    with pytest.raises(ValueError, match="`R`"):
        point_of_no_return(100.0, -1.0)
    with pytest.raises(ValueError, match="`scale`"):
        critical_lr(100.0, scale="L/T")


def test_numpy_scalars_are_accepted():
    assert optimum(np.float32(100.0)) == pytest.approx(optimum(100))
    assert float(loss(np.float64(0.0), np.int64(100))) == 100.0
