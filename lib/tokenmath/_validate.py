"""Input checks shared by every public function.

Each check raises ``ValueError`` that names the argument, the value it got and the valid
range, so a reader never meets a silent NaN or an error from deep inside numpy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: A number or an array of numbers (lists and ints work too: anything numpy turns into floats).
ArrayLike = float | np.ndarray


def _as_float_array(name: str, value: ArrayLike) -> np.ndarray:
    if value is None:
        raise ValueError(f"{name} must be a number or an array of numbers; got None")
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a number; got the boolean {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except OverflowError:
        raise ValueError(
            f"{name} must be finite (at most about 1.8e308); got a number too large for a float"
        ) from None
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or an array of numbers; got {echo(value)}"
        ) from None
    return arr


#: Most accelerators one replica may have: beyond this a step time underflows toward 0.
MAX_GPUS = 1_000_000

#: Longest piece of a bad value echoed back in an error message.
_ECHO = 60


def echo(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _ECHO else f"{text[:_ECHO]}... ({len(text):,} characters)"


def first_index(bad: np.ndarray) -> tuple[int, ...]:
    """Index of the first true element of ``bad`` (``()`` for a 0-d array)."""
    return tuple(int(i) for i in np.argwhere(bad)[0]) if np.ndim(bad) else ()


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    if arr.ndim == 0:
        return repr(float(arr))
    idx = first_index(bad)
    where = idx[0] if len(idx) == 1 else idx
    return f"{float(arr[idx])!r} at index {where}"


def _check_range(
    name: str, value: ArrayLike, minimum: float, inclusive: bool, valid: str
) -> np.ndarray:
    arr = _as_float_array(name, value)
    if arr.size:  # fast path: two reductions, no temporary arrays (NaN propagates to min)
        low, high = arr.min(), arr.max()
        in_range = low >= minimum if inclusive else low > minimum
        if in_range and np.isfinite(low) and np.isfinite(high):
            return arr
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"{name} must be finite ({valid}); got {_first_bad(arr, ~finite)}")
    too_small = arr < minimum if inclusive else arr <= minimum
    if too_small.any():
        raise ValueError(f"{name} must be {valid}; got {_first_bad(arr, too_small)}")
    return arr


def positive(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as a float array, every element finite and > 0."""
    return _check_range(name, value, 0.0, False, "> 0")


def non_negative(name: str, value: ArrayLike) -> np.ndarray:
    """``value`` as a float array, every element finite and >= 0."""
    return _check_range(name, value, 0.0, True, ">= 0")


def _single(name: str, arr: np.ndarray, valid: str) -> float:
    """``arr`` as a float if it holds one number; else an error naming ``name``."""
    if arr.ndim != 0:
        shape = arr.shape
        raise ValueError(f"{name} must be a single number {valid}; got an array of shape {shape}")
    return float(arr)


def positive_scalar(name: str, value: Any) -> float:
    """``value`` as a finite float > 0 (scalars only)."""
    return _single(name, positive(name, value), "> 0")


def non_negative_scalar(name: str, value: Any) -> float:
    """``value`` as a finite float >= 0 (scalars only)."""
    return _single(name, non_negative(name, value), ">= 0")


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1 (a float that is a whole number, like ``8.0``, counts)."""
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    whole = whole or (isinstance(value, float) and value.is_integer())
    if not whole or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1; got {echo(value)}")
    return int(value)


def gpu_count(value: Any, name: str = "gpus") -> int:
    """``value`` as a whole number of accelerators from 1 to :data:`MAX_GPUS`."""
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    whole = whole or (isinstance(value, float) and value.is_integer())
    if not whole or not 1 <= value <= MAX_GPUS:
        raise ValueError(f"{name} must be a whole number from 1 to {MAX_GPUS:,}; got {echo(value)}")
    return int(value)


def scalar_or_array(arr: np.ndarray) -> float | np.ndarray:
    """A 0-d result comes back as a plain float; arrays stay arrays."""
    return float(arr) if np.ndim(arr) == 0 else arr


def broadcast(**named: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays broadcast against each other, or an error naming them and their shapes."""
    try:
        return tuple(np.broadcast_arrays(*named.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(a)}" for k, a in named.items())
        names = " and ".join(named)
        message = f"{names} must have shapes that broadcast together; got {shapes}"
        raise ValueError(message) from None


@contextmanager
def no_overflow(*names: str) -> Iterator[None]:
    """Turn a float64 overflow inside the block into an error naming the inputs to blame."""
    try:
        with np.errstate(over="raise"):
            yield
    except FloatingPointError:
        which = " and ".join(names)
        raise ValueError(
            f"{which} too large: the bytes or FLOPs overflow a 64-bit float (about 1.8e308)"
        ) from None
