"""Published measurements of real serving systems, as data: :func:`measurements`.

The rows live in ``data/measurements.csv`` inside the package, one row per measured point,
each with the conditions it was measured under (model, accelerator and count, parallelism,
precision, batch, tokens in and out, context), what was measured, its value and unit, and its
source. The file is read on the first call, not at ``import tokenmath``.

Conventions of the data:

* ``model`` is a preset name (:func:`tokenmath.presets.model`) where one matches, else
  ``None`` (then ``model_params`` gives the parameter count and ``notes`` says where it
  comes from);
* ``chip`` is a hardware preset name, or a name the presets do not hold yet (``"h800"``,
  ``"a100-sxm-40gb"``), or ``"not stated"``;
* a condition the source does not state reads ``"not stated"`` in the file; in a record it is
  ``None`` for a number and ``"not stated"`` for a text field, and its field name is listed
  in ``not_stated``; an empty cell means the condition does not apply;
* ``batch_scope`` says whether ``batch`` counts sequences per replica or per device (or
  tokens per device, for prefill);
* ``kind`` says what the figure is: ``measured``, ``simulated`` or ``estimated`` by the
  source, ``derived`` (the source's own arithmetic on its figures, kept so the book can
  recompute it), a list ``price``, an ``assumption`` of the source, or a ``stated`` fact of
  the setup.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
from dataclasses import dataclass, fields

#: How the data file marks a condition its source does not state.
NOT_STATED = "not stated"

#: The data file, ``data/measurements.csv`` inside the installed package (read on the first
#: call).
#:
#: :meta hide-value:
DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "measurements.csv")
_DATA_NAME = os.path.basename(DATA_FILE)

_INT_FIELDS = frozenset({"chips", "chips_per_node", "batch"})
_FLOAT_FIELDS = frozenset({"model_params", "input_tokens", "output_tokens", "context", "value"})
_OPTIONAL_TEXT = frozenset({"model"})
_REQUIRED_TEXT = ("id", "case", "metric", "unit", "kind", "source", "bib_key")


@dataclass(frozen=True)
class Measurement:
    """One published figure and the conditions it was measured under.

    Numbers are floats (``chips``, ``chips_per_node`` and ``batch`` are ints); ``None`` means
    not stated by the source (the field is then named in ``not_stated``) or not applicable.
    ``value`` is in ``unit``; token counts are tokens, not millions.
    """

    id: str
    case: str
    model: str | None
    model_name: str
    model_params: float | None
    chip: str
    chips: int | None
    chips_per_node: int | None
    parallelism: str
    weight_precision: str
    kv_precision: str
    batch: int | None
    batch_scope: str
    input_tokens: float | None
    output_tokens: float | None
    context: float | None
    metric: str
    value: float
    unit: str
    kind: str
    source: str
    bib_key: str
    notes: str
    not_stated: tuple[str, ...] = ()


_COLUMNS = tuple(f.name for f in fields(Measurement) if f.name != "not_stated")


def _parse_number(name: str, text: str, where: str) -> float | int:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            f"{where}: {name} must be a number or {NOT_STATED!r}; got {text!r}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {name} must be finite; got {text!r}")
    if name in _INT_FIELDS:
        if not number.is_integer():
            raise ValueError(f"{where}: {name} must be a whole number; got {text!r}")
        return int(number)
    return number


def _record(raw: dict[str, str], line: int) -> Measurement:
    where = f"{_DATA_NAME} line {line}"
    values: dict[str, object] = {}
    missing: list[str] = []
    for name in _COLUMNS:
        text = (raw.get(name) or "").strip()
        if text == NOT_STATED:
            missing.append(name)
        if name in _INT_FIELDS or name in _FLOAT_FIELDS:
            values[name] = None if text in ("", NOT_STATED) else _parse_number(name, text, where)
        elif name in _OPTIONAL_TEXT:
            values[name] = text or None
        else:
            values[name] = text
    for name in _REQUIRED_TEXT:
        if not values[name]:
            raise ValueError(f"{where}: {name} is empty")
    if values["value"] is None:
        raise ValueError(f"{where}: value is empty")
    return Measurement(**values, not_stated=tuple(missing))  # type: ignore[arg-type]


@functools.cache
def _rows() -> tuple[Measurement, ...]:
    import csv  # here, not at module level: `import tokenmath` stays as light as before

    with open(DATA_FILE, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise ValueError(f"{_DATA_NAME}: columns must be {_COLUMNS}")
        rows = tuple(_record(raw, line) for line, raw in enumerate(reader, start=2))
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{_DATA_NAME}: row ids must be unique")
    return rows


def _unique(attribute: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(getattr(r, attribute) for r in _rows() if getattr(r, attribute)))


def _check_choice(name: str, value: object, valid: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in valid:
        return value
    close = difflib.get_close_matches(str(value), valid, n=3)
    hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
    choices = ", ".join(map(repr, valid))
    raise ValueError(f"{name} must be one of {choices}; got {value!r}{hint}")


def cases() -> tuple[str, ...]:
    """The case ids in the data, in file order.

    >>> cases()[:2]
    ('deepseek-production', 'deepseek-profile')
    """
    return _unique("case")


def measurements(
    case: str | None = None, model: str | None = None, metric: str | None = None
) -> list[Measurement]:
    """The published measurements, optionally only one case, one model or one metric.

    ``case`` is a case id (:func:`cases`), ``model`` a preset name that appears in the data,
    ``metric`` a metric name (for example ``"output_throughput"``); ``None`` keeps all.
    Returns a new list of frozen :class:`Measurement` records, in file order;
    :mod:`tokenmath.fleet` does the arithmetic of a day of serving on them.

    >>> import tokenmath as tm
    >>> sweep = tm.measurements(case="vllm-llama-70b", metric="output_throughput")
    >>> len(sweep), sweep[0].batch, round(sweep[0].value, 1), sweep[0].unit
    (10, 1, 53.9, 'tokens/s')
    >>> decode = tm.measurements(case="deepseek-production", metric="decode_throughput")[0]
    >>> decode.value, decode.unit, decode.chip, decode.context
    (14800.0, 'tokens/s/node', 'h800', 4989.0)
    >>> decode.batch is None and "batch" in decode.not_stated
    True
    """
    rows = _rows()
    if case is not None:
        case = _check_choice("case", case, cases())
        rows = tuple(r for r in rows if r.case == case)
    if model is not None:
        model = _check_choice("model", model, _unique("model"))
        rows = tuple(r for r in rows if r.model == model)
    if metric is not None:
        metric = _check_choice("metric", metric, _unique("metric"))
        rows = tuple(r for r in rows if r.metric == metric)
    return list(rows)


def measurement(case: str, metric: str) -> Measurement:
    """The one record of ``metric`` in ``case``; an error if there are none or several.

    >>> measurement("deepseek-production", "decode_throughput").value
    14800.0
    """
    found = measurements(case=case, metric=metric)
    if len(found) != 1:
        raise ValueError(
            f"metric {metric!r} has {len(found)} rows in case {case!r}, not one; "
            "use measurements() and filter them"
        )
    return found[0]
