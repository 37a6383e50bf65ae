"""tokenmath.answers: right answers pass, wrong ones get a hint that does not give them away."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import tokenmath as tm
from tokenmath import answers

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("q*.ipynb"))
IDS = answers.question_ids()
CHECK_CALL = re.compile(r'tm\.answers\.check\("(q\d+[a-z])", my_answer\)')


def wrong_answer(expected):
    """Something clearly wrong of the same kind as ``expected``."""
    if isinstance(expected, bool):
        return not expected
    if isinstance(expected, str):
        return "B" if expected != "B" else "A"
    if isinstance(expected, frozenset):
        return sorted(expected)[1:] + ["gpt-3-175b-not-a-model"]
    if isinstance(expected, tuple):
        return tuple(wrong_answer(e) for e in expected)
    if math.isinf(expected):
        return 1_000.0
    return expected * 1.37 + 1


def renderings(expected) -> set[str]:
    """Ways a number could be written in a hint (only the ones long enough to mean it)."""
    if isinstance(expected, tuple):
        return set().union(*(renderings(e) for e in expected))
    if isinstance(expected, bool | str | frozenset) or math.isinf(expected):
        return set()
    forms = {
        f"{expected:.0f}",
        f"{expected:,.0f}",
        f"{expected:.1f}",
        f"{expected:.2f}",
        f"{expected:.3f}",
        f"{expected:.3g}",
        f"{expected:.2%}",
        f"{expected:.0%}",
        repr(expected),
    }
    return {f for f in forms if len(f.strip("-0.,%")) >= 2}


def test_every_part_is_registered() -> None:
    assert len(IDS) >= 44
    numbers = {re.match(r"q\d+", qid)[0] for qid in IDS}
    assert numbers == {path.name.split("_")[0] for path in EXERCISES}
    assert {f"q{n}" for n in range(1, 11)} <= numbers


def test_ids_come_in_exercise_order() -> None:
    numbers = [int(re.match(r"q(\d+)", qid)[1]) for qid in IDS]
    assert numbers == sorted(numbers) and IDS.index("q9f") < IDS.index("q10a")


@pytest.mark.parametrize("qid", IDS)
def test_accepts_the_library_value(qid: str, capsys) -> None:
    assert answers.check(qid, answers._expected(qid)) is True
    assert capsys.readouterr().out.strip() == "Correct."


@pytest.mark.parametrize("qid", IDS)
def test_rejects_a_wrong_value_without_revealing_it(qid: str, capsys) -> None:
    expected = answers._expected(qid)
    assert answers.check(qid, wrong_answer(expected)) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet. Hint: ") and len(out) > len("Not yet. Hint: ") + 10
    for form in renderings(expected):
        assert form not in out, f"{qid}: hint {out!r} reveals {form!r}"
    if isinstance(expected, frozenset):
        assert not any(name in out for name in expected)


@pytest.mark.parametrize("qid", IDS)
def test_none_means_no_answer_yet(qid: str, capsys) -> None:
    assert answers.check(qid, None) is False
    assert capsys.readouterr().out.startswith("No answer yet")


def test_unknown_id_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"question_id must be one of q1a, .*; got 'q9z'"):
        answers.check("q9z", 1.0)


def test_ids_are_case_and_space_tolerant(capsys) -> None:
    assert answers.check(" Q6D ", answers._expected("q6d")) is True


@pytest.mark.parametrize("rtol", [-0.1, math.inf, "0.1"])
def test_bad_rtol_raises(rtol) -> None:
    with pytest.raises(ValueError, match="rtol"):
        answers.check("q4b", 1.0, rtol=rtol)


def test_tolerance_is_relative_and_adjustable(capsys) -> None:
    value = answers._expected("q4b")
    assert answers.check("q4b", value * 1.015) is True  # within the default 2 %
    assert answers.check("q4b", value * 1.015, rtol=0.001) is False
    assert answers.check("q6d", (17.0, 9.0)) is True  # whole numbers given as floats


def test_unit_slip_gets_a_unit_hint(capsys) -> None:
    assert answers.check("q8b", answers._expected("q8b") / 1e6) is False
    out = capsys.readouterr().out
    assert "factor of 1e6" in out and "USD per million tokens" in out


def test_sign_slip_gets_a_sign_hint(capsys) -> None:
    assert answers.check("q1e", -answers._expected("q1e")) is False
    assert "sign" in capsys.readouterr().out


def test_inf_is_an_answer(capsys) -> None:
    assert answers.check("q2b", math.inf) is True
    assert answers.check("q2b", float("inf")) is True
    assert answers.check("q4b", math.inf) is False


@pytest.mark.parametrize(
    "qid, answer, says",
    [
        ("q4b", "536", "a number"),
        ("q4b", True, "a number"),
        ("q3a", 0.5, "2 values"),
        ("q3a", (0.5,), "2 values"),
        ("q3d", 1, "a string"),
        ("q7e", 1, "True or False"),
        ("q2d", "deepseek-v3", "list or set"),
    ],
)
def test_wrong_kind_of_answer_says_what_kind(qid, answer, says, capsys) -> None:
    assert answers.check(qid, answer) is False
    assert says in capsys.readouterr().out


def test_name_lists_ignore_order_and_case(capsys) -> None:
    names = sorted(answers._expected("q2d"))
    assert answers.check("q2d", [n.upper() for n in reversed(names)]) is True
    assert answers.check("q2d", names[:-1]) is False
    out = capsys.readouterr().out
    assert "missing" in out
    assert not any(ch.isdigit() for ch in out.split(".")[0])  # no count that gives part away
    assert answers.check("q2d", [*names, "gpt-3-175b-not-a-model"]) is False
    assert "do not belong" in capsys.readouterr().out


def test_expected_values_follow_the_presets() -> None:
    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    assert math.isclose(answers._expected("q4b"), tm.sweet_spot(m, hw) / 10)
    assert math.isclose(answers._expected("q1c"), 0.4)
    assert answers._expected("q6d") == (tm.min_gpus(m, hw, "bf16"), tm.min_gpus(m, hw, "fp8"))


def test_unit_is_stated_for_every_part() -> None:
    for qid in IDS:
        assert answers.unit(qid)


def test_import_stays_light() -> None:
    code = (
        "import sys, tokenmath.answers; "
        "heavy = [m for m in ('sympy', 'matplotlib', 'ipywidgets') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def givens_cell(path: Path) -> dict:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    cells = [c for c in nb.cells if "givens" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged 'givens'"
    namespace: dict = {"tm": tm, "dataclasses": __import__("dataclasses")}
    exec(cells[0].source, namespace)
    return {k: v for k, v in namespace.items() if k.isupper()}


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_notebook_givens_match_the_checker(path: Path) -> None:
    key = path.name.split("_")[0]
    stated = givens_cell(path)
    expected = answers.GIVENS[key]
    assert set(stated) == set(expected), path.name
    for name, value in expected.items():
        assert stated[name] == value, f"{path.name}: {name} = {stated[name]!r}, checker {value!r}"


def test_every_part_has_exactly_one_check_cell() -> None:
    calls = []
    for path in EXERCISES:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        found = CHECK_CALL.findall("\n".join(c.source for c in nb.cells))
        assert found and all(qid.startswith(path.name.split("_")[0]) for qid in found)
        calls += found
    assert sorted(calls) == sorted(IDS)


# --- The sealed key (the student kit's checker) ----------------------------------------------


@pytest.fixture(scope="module")
def sealed():
    from tokenmath import answer_key

    return answers._SealedKey(answer_key.sealed_key(salt="00" * 16, iterations=10))


def _check_with(key, qid, answer, capsys) -> tuple[bool, str]:
    saved = answers._KEY
    answers._KEY = key
    try:
        right = answers.check(qid, answer)
    finally:
        answers._KEY = saved
    return right, capsys.readouterr().out


def variants(expected) -> list:
    """Right, nearly right, slipped and wrong answers of the same kind as ``expected``."""
    if isinstance(expected, bool):
        return [expected, not expected]
    if isinstance(expected, str):
        return ["A", "B", " a "]
    if isinstance(expected, frozenset):
        names = sorted(expected)
        return [names, names[:-1], [*names, "not-a-model"], [n.upper() for n in names]]
    if isinstance(expected, tuple):
        return [tuple(v) for v in zip(*(variants(e) for e in expected), strict=False)]
    if math.isinf(expected):
        return [expected, 1000.0, -expected]
    e = expected
    return [e, e * 1.015, e * 0.985, e * 1.03, e * 0.97, -e, e * 1e6, e / 3600, e * 1.37 + 1, 0]


@pytest.mark.parametrize("qid", IDS)
def test_sealed_key_agrees_with_the_library(qid: str, sealed, capsys) -> None:
    """Same verdict and same hint from both keys (away from the edge of the tolerance, where
    the sealed key may accept up to a quarter tolerance more)."""
    library = answers._key()
    for answer in variants(answers._expected(qid)):
        assert _check_with(sealed, qid, answer, capsys) == _check_with(
            library, qid, answer, capsys
        ), (qid, answer)


def test_sealed_key_stores_no_value(sealed) -> None:
    """Besides hashes, the key holds units, hints, tolerances and kinds: no expected value."""
    digests = [
        h
        for q in sealed._questions.values()
        for field in ("hashes", "members")
        for hashes in q[field].values()
        for h in hashes
    ]
    assert len(digests) >= 200 and all(re.fullmatch(r"[0-9a-f]{32}", h) for h in digests)
    rest = {
        qid: {k: v for k, v in q.items() if k not in ("hashes", "members")}
        for qid, q in sealed._questions.items()
    }
    text = repr(rest)
    for qid in IDS:
        value = answers._expected(qid)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, float) and math.isfinite(item):
                forms = {repr(item), f"{item:.6g}", f"{item:.5g}"}
                for form in {f for f in forms if len(f.replace(".", "").strip("-0")) >= 4}:
                    assert form not in text, (qid, form)


@pytest.mark.parametrize("expected", [1234.5, -0.37, 3.0e-7, 8.1e9])
@pytest.mark.parametrize("rtol", [0.02, 0.001])
def test_number_cells_cover_the_tolerance_and_little_more(expected, rtol) -> None:
    cells = set(answers._number_tokens(expected, rtol))
    inside = [expected * (1 + f * rtol) for f in (-0.999, -0.5, 0, 0.5, 0.999)]
    assert all(answers._number_token(x, rtol) in cells for x in inside)
    outside = [expected * (1 + f * rtol) for f in (-1.3, 1.3, -2, 2)]
    assert not any(answers._number_token(x, rtol) in cells for x in outside)


def test_number_cells_refuse_an_expected_zero() -> None:
    with pytest.raises(ValueError, match="too close to 0"):
        answers._number_tokens(0.0, 0.02)


def test_answers_go_to_the_grading_log(tmp_path, monkeypatch, capsys) -> None:
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv(answers.ANSWER_LOG_ENV, str(log))
    answers.check("q4b", 12.5)
    answers.check("q2b", math.inf)
    answers.check("q6d", (17, 9))
    answers.check("q4a", None)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{"q4b": 12.5}, {"q2b": math.inf}, {"q6d": [17, 9]}, {"q4a": None}]
