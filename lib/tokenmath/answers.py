"""Answer checkers for the book's exercises: right, or a hint, never the answer.

Each exercise notebook under ``exercises/`` states its givens literally; ``GIVENS`` holds the
same values. The expected answers come from one of two keys:

- in the repository (the teacher's install), :mod:`tokenmath.answer_key` computes each one from
  the givens with the library when it is checked, never typed in;
- in the student kit (``make student``), that module is left out of the wheel and a *sealed
  key* takes its place: for each part, salted hashes of the small cells of the number line
  that lie within the part's tolerance of the answer (and hashes of the right string, truth
  value or set of names). An answer is right when the hash of its own cell is in the list.
  The sealed key never holds a value a student could read; it is a speed bump, not a lock
  (``teaching/teachers.md`` says what a determined student can still do).

>>> check("q4b", 1.0)
Not yet. Hint: The sweet spot scales with C/BW; what did the bandwidth change do to that ratio?
False
>>> check("q4b", None)
No answer yet: set my_answer in the cell above and run both cells again.
False

A reader's answer may be a number, ``math.inf``, a string, a boolean, a tuple of numbers
(several items asked for at once) or a collection of preset names, as the question says.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import os
from collections.abc import Iterable, Iterator
from numbers import Real
from string import ascii_lowercase
from typing import Any, NamedTuple

import numpy as np

from .assumptions import REFINED
from .roofline import SECONDS_PER_HOUR

__all__ = ["GIVENS", "check", "question_ids", "unit"]

#: The literal givens of each exercise, exactly as its notebook's givens cell states them.
GIVENS: dict[str, dict[str, Any]] = {
    "q1": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "CONTEXT_TOKENS": 0,
        "PRICE_USD_PER_M": 0.50,
        "FLOOR_USD_PER_M": 0.30,
        "TRAFFIC_FALL": 0.50,
    },
    "q2": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "LONG_CONTEXT_TOKENS": 8_192,
        "CHAT_CONTEXT_TOKENS": 3_000,
    },
    "q3": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "A_CONTEXT_TOKENS": 1_000,
        "A_BATCH": 4_000,
        "B_CONTEXT_TOKENS": 32_000,
        "B_BATCH": 256,
        "TRAFFIC_FALL": 0.50,
    },
    "q4": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "BANDWIDTH_FACTOR": 10,
        "LONG_CONTEXT_TOKENS": 8_192,
    },
    "q5": {
        "MODEL": "deepseek-v3",
        "HARDWARES": ("a100-sxm-80gb", "h100-sxm", "b200"),
        "CONTEXT_TOKENS": 1_000,
        "SMALL_BATCH": 64,
    },
    "q6": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "CONTEXT_TOKENS": 1_000,
    },
    "q7": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h100-sxm",
        "GPUS": 48,
        "CONTEXT_TOKENS": 2_000,
        "TARGET_SPEEDUP": 2.0,
        "STRETCH_SPEEDUP": 3.0,
    },
    "q8": {
        "MODEL": "llama-3.1-70b",
        "HARDWARE": "h100-sxm",
        "GPUS": 4,
        "USD_PER_GPU_HOUR": 2.79,
        "HOURS_PER_MONTH": 730,
        "DEMAND_TOKENS_PER_S": 200,
        "CONTEXT_TOKENS": 1_000,
        "PROVIDER_USD_PER_M": 0.90,
    },
    "q9": {
        "MODEL": "kimi-k2",
        "HARDWARE": "h200",
        "PRECISION": "native",
        "GPUS": 8,
        "SHARES": (0.90, 0.99),
        "SMALL_BATCH": 16,
    },
    "q10": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "b200",
        "GPUS": 8,
        "CONTEXT_TOKENS": 4_096,
    },
    "q11": {
        "MODEL": "llama-3.1-70b",
        "HARDWARE": "h100-sxm",
        "GPUS": 4,
        "KV_HEADS": {"mha": 64, "gqa": 8, "mqa": 1},
        "CONTEXT_TOKENS": 8_192,
    },
    "q12": {
        "SHORT_TIER_USD_PER_M": {"input": 3.00, "output": 15.00},
        "LONG_TIER_USD_PER_M": {"input": 6.00, "output": 22.50},
        "TIER_BOUNDARY_TOKENS": 200_000,
        "LONG_CONTEXT_TOKENS": 400_000,
        "STAND_IN": "llama-3.1-405b",
        "HARDWARE": "h100-sxm",
    },
    "q16": {
        "CASE": "deepseek-production",
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "KV_PRECISION": "bf16",
        "DECODE_GPUS": 144,
        "SGLANG_CASE": "sglang-decode",
    },
    "q17": {
        "CASE": "deepseek-production",
        "OFFPEAK_CASE": "deepseek-offpeak",
    },
    "q13": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "ASSUME": REFINED,
        "QUESTION_TOKENS": 300,
        "PASSAGE_TOKENS": 512,
        "MAX_PASSAGES": 40,
        "OUTPUT_TOKENS": 400,
        "DECODE_BATCH": 20_000,
        "USD_PER_GPU_HOUR": 2.0,
    },
    "q14": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "INPUT_TOKENS": 6_000,
        "OUTPUT_TOKENS": 500,
        "HIT_RATE": 0.5,
        "PREFILL_BATCH": 8,
        "DECODE_BATCH": 20_000,
        "RELOAD_BYTES_PER_S": 50e9,
        "LIST_USD_PER_M": (0.14, 0.55, 2.19),
    },
    "q15": {
        "MODEL": "deepseek-v3",
        "HARDWARE": "h800",
        "PRECISION": "native",
        "GPUS": 144,
        "PROMPT_TOKENS": 2_000,
        "PREFILL_BATCH": 16,
        "CONTEXT_TOKENS": 4_989,
        "LIST_USD_PER_M": (0.07, 0.27, 1.10),
    },
}


# --- Values and their tokens: shared by the library key and the sealed key ------------------

#: Cells of the number line per tolerance: a sealed key accepts every answer within the
#: tolerance and, at worst, answers up to 1/CELLS_PER_TOLERANCE of a tolerance beyond it.
CELLS_PER_TOLERANCE = 4
#: Absolute slack every numeric comparison allows (as ``_close`` does).
ZERO = 1e-12
#: PBKDF2 rounds per sealed hash: slows a loop that tries every cell, does not stop it.
SEAL_ITERATIONS = 20_000


def natural_order(qid: str) -> tuple[int, str]:
    """Sort key for question ids: by exercise number, then part (``q2e`` before ``q11a``)."""
    return int(qid[1:].rstrip(ascii_lowercase)), qid


def shape_of(value: Any) -> dict[str, Any]:
    """The kind of an expected answer (``number``, ``bool``, ``str``, ``set``, ``tuple``)."""
    if isinstance(value, bool | np.bool_):
        return {"kind": "bool"}
    if isinstance(value, str):
        return {"kind": "str"}
    if isinstance(value, frozenset):
        return {"kind": "set"}
    if isinstance(value, tuple):
        return {"kind": "tuple", "items": [shape_of(v) for v in value]}
    return {"kind": "number"}


def walk_items(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` for every leaf of a (possibly nested) tuple answer; ``""`` is the root."""
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from walk_items(item, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def walk_members(value: Any) -> Iterator[tuple[str, frozenset]]:
    """``(path, names)`` for every set of names in an answer."""
    for path, leaf in walk_items(value):
        if isinstance(leaf, frozenset):
            yield path, leaf


def _cell_width(rtol: float) -> float:
    return math.log1p(rtol) / CELLS_PER_TOLERANCE


def _number_token(x: float, rtol: float) -> str:
    """The cell of the number line that ``x`` falls in, at the cell size set by ``rtol``."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if rtol == 0:
        return "=" + repr(float(x))
    if abs(x) <= ZERO:
        return "0"
    sign = "+" if x > 0 else "-"
    return f"{sign}{math.floor(math.log(abs(x)) / _cell_width(rtol))}"


def _number_tokens(expected: float, rtol: float) -> list[str]:
    """Every cell that holds a number within ``rtol`` of ``expected`` (as ``_close`` says)."""
    if math.isinf(expected) or rtol == 0:
        return [_number_token(expected, rtol)]
    slack = rtol * abs(expected) + ZERO
    lo, hi = expected - slack, expected + slack
    if lo <= ZERO and hi >= -ZERO:
        raise ValueError(f"expected value {expected!r} is too close to 0 for a relative tolerance")
    small, large = sorted((abs(lo), abs(hi)))
    width, sign = _cell_width(rtol), "+" if expected > 0 else "-"
    first, last = math.floor(math.log(small) / width), math.floor(math.log(large) / width)
    return [f"{sign}{k}" for k in range(first, last + 1)]


def _token(kind: str, value: Any, rtol: float) -> str:
    """The token of one canonical value (see ``_Part.matches``) of the given kind."""
    if kind == "number":
        return _number_token(float(value), rtol)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "set":
        return "\n".join(sorted(value))
    return str(value)


def tokens_for_expected(value: Any, rtol: float) -> list[str]:
    """Every token that counts as right for the expected leaf ``value``."""
    if isinstance(value, frozenset):
        return [_token("set", frozenset(n.lower() for n in value), rtol)]
    if isinstance(value, str):
        return [_token("str", value.strip().lower(), rtol)]
    kind = shape_of(value)["kind"]
    if kind == "bool":
        return [_token("bool", bool(value), rtol)]
    return _number_tokens(float(value), rtol)


def seal(salt: str, iterations: int, qid: str, path: str, token: str) -> str:
    """The salted, stretched hash under which a sealed key stores one token."""
    message = f"{qid}|{path}|{token}".encode()
    return hashlib.pbkdf2_hmac("sha256", message, bytes.fromhex(salt), iterations, 16).hex()


# --- The two keys ----------------------------------------------------------------------------


class _Meta(NamedTuple):
    unit: str
    hint: str
    rtol: float


def _leaf(value: Any, path: str) -> Any:
    for i in path.split(".") if path else ():
        value = value[int(i)]
    return value


class _LibraryKey:
    """Expected answers computed by :mod:`tokenmath.answer_key` (the teacher's install)."""

    kind = "library"

    def __init__(self, module: Any) -> None:
        self._module = module

    def ids(self) -> list[str]:
        return sorted(self._module.QUESTIONS, key=natural_order)

    def meta(self, qid: str) -> _Meta:
        q = self._module.QUESTIONS[qid]
        return _Meta(q.unit, q.hint, q.rtol)

    def expected(self, qid: str) -> Any:
        return self._module.expected(qid)

    def shape(self, qid: str) -> dict[str, Any]:
        return shape_of(self.expected(qid))

    def require_rtol(self, qid: str, rtol: float) -> None:
        """Any tolerance works: the expected value is at hand."""

    def matches(self, qid: str, path: str, kind: str, value: Any, rtol: float) -> bool:
        e = _leaf(self.expected(qid), path)
        if kind == "number":
            return _close(value, float(e), rtol)
        if kind == "set":
            return value == frozenset(n.lower() for n in e)
        if kind == "str":
            return value == e.strip().lower()
        return value == bool(e)

    def member(self, qid: str, path: str, name: str) -> bool:
        return name in {n.lower() for n in _leaf(self.expected(qid), path)}

    def size(self, qid: str, path: str) -> int:
        return len(_leaf(self.expected(qid), path))


class _SealedKey:
    """Expected answers as salted hashes (the student kit's install); see the module notes."""

    kind = "sealed"

    def __init__(self, data: dict[str, Any]) -> None:
        self._salt, self._rounds = data["salt"], data["iterations"]
        self._questions = data["questions"]

    def ids(self) -> list[str]:
        return sorted(self._questions, key=natural_order)

    def meta(self, qid: str) -> _Meta:
        q = self._questions[qid]
        return _Meta(q["unit"], q["hint"], q["rtol"])

    def expected(self, qid: str) -> Any:
        raise LookupError("the student edition holds no answers, only a sealed key")

    def shape(self, qid: str) -> dict[str, Any]:
        return self._questions[qid]["shape"]

    def require_rtol(self, qid: str, rtol: float) -> None:
        stored = self._questions[qid]["rtol"]
        if rtol != stored:
            raise ValueError(
                f"rtol must be {stored!r} for {qid} in the student edition: its sealed key "
                f"holds that tolerance only; got {rtol!r}"
            )

    def _sealed(self, qid: str, path: str, token: str) -> str:
        return seal(self._salt, self._rounds, qid, path, token)

    def matches(self, qid: str, path: str, kind: str, value: Any, rtol: float) -> bool:
        stored = self._questions[qid]["hashes"][path]
        return self._sealed(qid, path, _token(kind, value, rtol)) in stored

    def member(self, qid: str, path: str, name: str) -> bool:
        stored = self._questions[qid]["members"][path]
        return self._sealed(qid, path + "#member", name) in stored

    def size(self, qid: str, path: str) -> int:
        return self._questions[qid]["sizes"][path]


_KEY: _LibraryKey | _SealedKey | None = None


def _key() -> _LibraryKey | _SealedKey:
    """The library key where ``answer_key`` is installed, else the kit's sealed key."""
    global _KEY
    if _KEY is None:
        package = __name__.rpartition(".")[0]
        if importlib.util.find_spec(f"{package}.answer_key") is not None:
            _KEY = _LibraryKey(importlib.import_module(f"{package}.answer_key"))
        elif importlib.util.find_spec(f"{package}._sealed_key") is not None:
            _KEY = _SealedKey(importlib.import_module(f"{package}._sealed_key").KEY)
        else:
            raise RuntimeError("tokenmath has no answer key: install it from the repository or kit")
    return _KEY


# --- The checker ---------------------------------------------------------------------------

_UNIT_SLIPS: dict[float, str] = {
    1e-9: "1e9",
    1e-6: "1e6",
    1e-3: "1000",
    1e-2: "100",
    1e2: "100",
    1e3: "1000",
    1e6: "1e6",
    1e9: "1e9",
    SECONDS_PER_HOUR: "3600",
    1 / SECONDS_PER_HOUR: "3600",
}

#: Where ``make grade`` asks for a log of the answers: when this environment variable names a
#: file, :func:`check` appends each answer to it as a line of JSON (``{"q1a": 0.5}``).
ANSWER_LOG_ENV = "TOKENMATH_ANSWER_LOG"


def question_ids() -> list[str]:
    """Every checkable question id, e.g. ``"q1a"``, in order."""
    return _key().ids()


def unit(question_id: str) -> str:
    """The unit or form in which ``question_id`` expects its answer."""
    return _key().meta(_lookup(question_id)).unit


def _lookup(question_id: str) -> str:
    key = str(question_id).strip().lower()
    ids = _key().ids()
    if key not in ids:
        raise ValueError(f"question_id must be one of {', '.join(ids)}; got {question_id!r}")
    return key


def _expected(question_id: str) -> Any:
    """The library's answer (for tests and solutions' own checks; never printed).

    Raises ``LookupError`` in the student edition, which holds no answers.
    """
    return _key().expected(_lookup(question_id))


def _is_number(x: Any) -> bool:
    return isinstance(x, Real | np.number) and not isinstance(x, bool | np.bool_)


def _close(answer: float, expected: float, rtol: float) -> bool:
    if math.isinf(expected) or math.isinf(answer):
        return answer == expected
    return abs(answer - expected) <= rtol * abs(expected) + ZERO


class _Part(NamedTuple):
    """One item of one question, asked of whichever key is installed."""

    key: _LibraryKey | _SealedKey
    qid: str
    path: str
    rtol: float

    def matches(self, kind: str, value: Any) -> bool:
        return self.key.matches(self.qid, self.path, kind, value, self.rtol)

    def member(self, name: str) -> bool:
        return self.key.member(self.qid, self.path, name)

    def size(self) -> int:
        return self.key.size(self.qid, self.path)

    def item(self, i: int) -> _Part:
        return self._replace(path=f"{self.path}.{i}" if self.path else str(i))


def _number_hint(answer: float, part: _Part, meta: _Meta) -> str:
    if math.isinf(answer) or math.isnan(answer) or answer == 0:
        return meta.hint
    if part.matches("number", -answer):
        return "Check the sign."
    for factor, label in _UNIT_SLIPS.items():
        if part.matches("number", answer * factor):
            return f"Off by a factor of {label}; the unit asked for: {meta.unit}."
    return meta.hint


def _judge(answer: Any, shape: dict[str, Any], part: _Part, meta: _Meta) -> tuple[bool, str]:
    """``(right, hint)`` for one answer; the hint never contains the expected value."""
    kind = shape["kind"]
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer.item()
    if kind == "bool":
        if not isinstance(answer, bool | np.bool_):
            return False, "Answer True or False."
        return part.matches("bool", bool(answer)), meta.hint
    if kind == "str":
        if not isinstance(answer, str):
            return False, f"Answer with a string: {meta.unit}."
        return part.matches("str", answer.strip().lower()), meta.hint
    if kind == "set":
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return False, f"Answer with a list or set of names: {meta.unit}."
        given = frozenset(str(a).strip().lower() for a in answer)
        if part.matches("set", given):
            return True, ""
        members = sum(part.member(name) for name in given)
        # say which way the list is off, not by how many: a count would give part of it away
        parts = ["some names do not belong"] if members < len(given) else []
        parts += ["some names are missing"] if members < part.size() else []
        return False, f"{' and '.join(parts).capitalize()}. {meta.hint}"
    if kind == "tuple":
        items_shape = shape["items"]
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return False, f"Answer with {len(items_shape)} values: {meta.unit}."
        items = list(answer)
        if len(items) != len(items_shape):
            return False, f"Answer with {len(items_shape)} values: {meta.unit}."
        for i, (a, s) in enumerate(zip(items, items_shape, strict=True)):
            right, hint = _judge(a, s, part.item(i), meta)
            if not right:
                return False, f"Item {i + 1} is off. {hint}"
        return True, ""
    if not _is_number(answer):
        return False, f"Answer with a number: {meta.unit}."
    if part.matches("number", float(answer)):
        return True, ""
    return False, _number_hint(float(answer), part, meta)


def _plain(x: Any, depth: int = 0) -> Any:
    """``x`` as plain JSON values (what ``make grade`` reads back from a submission)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if _is_number(x):
        return float(x)
    if isinstance(x, str):
        return x[:200]
    if depth < 2 and isinstance(x, list | tuple | set | frozenset | np.ndarray):
        items = sorted(x, key=str) if isinstance(x, set | frozenset) else list(x)
        return [_plain(item, depth + 1) for item in items[:100]]
    return {"unsupported": type(x).__name__}


def _log_answer(qid: str, answer: Any) -> None:
    """Append the answer to the grading log, if ``make grade`` asked for one."""
    path = os.environ.get(ANSWER_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({qid: _plain(answer)}) + "\n")


def check(question_id: str, answer: Any, *, rtol: float | None = None) -> bool:
    """Say whether ``answer`` to exercise part ``question_id`` is right; never reveal it.

    Prints ``"Correct."`` or a short hint and returns ``True`` or ``False``. ``None``
    (no answer yet) prints a reminder and returns ``False``. Numbers count as right within
    a relative tolerance (``rtol``, 2 % unless the question needs an exact count), so
    rounded intermediate values are fine; the unit is the one the question states
    (``unit()``), and an answer off by a common unit factor gets a hint saying so.

    Raises ``ValueError`` for an unknown ``question_id`` (listing the valid ones) or a
    negative ``rtol`` (and, in the student edition, for any ``rtol`` other than the one its
    sealed key was built with).

    >>> check("q6d", (17, 9))
    Correct.
    True
    """
    key = _key()
    qid = _lookup(question_id)
    meta = key.meta(qid)
    if rtol is not None and (not _is_number(rtol) or not rtol >= 0 or math.isinf(rtol)):
        raise ValueError(f"rtol must be a finite number >= 0; got {rtol!r}")
    tol = meta.rtol if rtol is None else float(rtol)
    key.require_rtol(qid, tol)
    _log_answer(qid, answer)
    if answer is None:
        print("No answer yet: set my_answer in the cell above and run both cells again.")
        return False
    right, hint = _judge(answer, key.shape(qid), _Part(key, qid, "", tol), meta)
    print("Correct." if right else f"Not yet. Hint: {hint}")
    return right
