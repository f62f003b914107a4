import math

import numpy as np
import pytest

from ghostmech import _checks


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "3", None, True])
def test_check_positive_rejects_and_names_argument(bad):
    with pytest.raises(ValueError, match="`T`"):
        _checks.check_positive("T", bad)


def test_check_positive_accepts_numpy_scalars():
    assert _checks.check_positive("T", np.float32(2.5)) == 2.5


def test_check_one_of_lists_allowed_values():
    with pytest.raises(ValueError, match="'raw', 'per_T'"):
        _checks.check_one_of("scale", "bad", ["raw", "per_T"])


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4"])
def test_check_positive_int(bad):
    with pytest.raises(ValueError, match="`epochs`"):
        _checks.check_positive_int("epochs", bad)


def test_check_int_in_range():
    assert _checks.check_int_in_range("rank", 3, 1, 100) == 3
    with pytest.raises(ValueError, match=r"\[1, 100\]"):
        _checks.check_int_in_range("rank", 101, 1, 100)
