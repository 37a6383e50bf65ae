"""The explorer's tables (tokenmath.webexplorer): every stored number equals the library's at
its grid point, within the stated quantisation tolerance; the files it writes parse."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import webexplorer as we

TOL = we.QUANTISATION_TOLERANCE
US, MS = 1e6, 1e3
ASSUME = {"first-order": tm.FIRST_ORDER, "refined": tm.REFINED}

# A dense model, two MoE models (one with native FP8, one with native MXFP4 experts), a
# sliding-window model, chips with and without FP8 and one with FP4.
PAIRS = [
    ("deepseek-v3", "h100-sxm"),
    ("deepseek-v3", "a100-sxm-80gb"),
    ("gpt-oss-120b", "b200"),
    ("llama-3.1-8b", "tpu-v5e"),
    ("mixtral-8x7b", "mi300x"),
]


@pytest.fixture(scope="module", params=PAIRS, ids=["/".join(p) for p in PAIRS])
def pair(request):
    m, hw = tm.model(request.param[0]), tm.hardware(request.param[1])
    return m, hw, we.explorer_tables(m, hw)


def resolved(tables: dict, key: str) -> dict:
    case = tables["cases"][key]
    while "same_as" in case:
        case = tables["cases"][case["same_as"]]
    return case


def close(stored, exact) -> bool:
    stored, exact = np.asarray(stored, dtype=float), np.asarray(exact, dtype=float)
    return bool(np.all(np.abs(stored / exact - 1) <= TOL))


def test_batch_grid_is_whole_sequences_on_a_log_scale() -> None:
    grid = we.batch_grid()
    assert grid[0] == 1 and grid[-1] == 2**20
    assert 64 in grid  # the explorer's starting batch, as in JupyterLab
    assert all(isinstance(b, int) for b in grid)
    ratios = np.diff(np.log2(grid))
    assert np.all(ratios > 0) and np.all(ratios <= 1.0)


def test_context_grid_reaches_the_model_limit() -> None:
    for name in tm.model_names():
        limit = tm.model(name).context_limit
        grid = we.context_grid(limit)
        assert grid[0] == 0 and grid[-1] == limit
        assert grid == sorted(set(grid))
    with pytest.raises(ValueError, match="limit"):
        we.context_grid(0)


def test_cases_cover_the_offered_formats(pair) -> None:
    m, hw, tables = pair
    offered = we.weight_formats_offered(m, hw)
    assert offered[0] == "bf16"
    assert ("fp8" in offered) == ("fp8" in hw.flops_per_s)
    expected = {
        we.case_key(p, kv, a) for p in offered for kv in we.KV_FORMATS for a in we.ASSUMPTION_SETS
    }
    assert set(tables["cases"]) == expected
    assert tables["contexts"] == we.context_grid(m.context_limit)


def test_every_stored_number_equals_the_library(pair) -> None:
    """Each case, each context and batch of the grid, against fresh library calls."""
    m, hw, tables = pair
    ctx = np.array(tables["contexts"], dtype=float)
    b = np.array(we.batch_grid(), dtype=float)
    for key in tables["cases"]:
        precision, kv, assumptions = key.split("|")
        kw = {"kv_precision": kv, "assume": ASSUME[assumptions]}
        case = resolved(tables, key)
        gpus = tm.widgets.default_gpus(m.name, hw.name, precision)
        assert case["gpus"] == gpus, key
        assert case["compute_mode"] == tm.compute_precision(m, hw, precision)
        for i, context in enumerate(ctx):
            cost = tm.cost_per_token(m, hw, b, context, precision, **kw) * US
            step = tm.step_time(m, hw, b, context, precision, gpus, **kw) * MS
            assert close(we.decode_curve(case["cost_us"][i]), cost), (key, context)
            assert close(we.decode_curve(case["step_ms"][i]), step), (key, context)
            region = tm.region(m, hw, b, context, precision, **kw)
            first = case["compute_from"][i]
            assert all(region[:first] == "memory-bound") and all(region[first:] == "compute-bound")
            terms = tm.cost_terms(m, hw, 1.0, context, precision, **kw)
            for name, exact in (
                ("kv_us", terms.kv * US),
                ("compute_us", terms.compute * US),
                ("floor_us", tm.cost_floor(m, hw, context, precision, **kw) * US),
                ("batch1_penalty", tm.batch1_penalty(m, hw, context, precision, **kw)),
            ):
                stored = case[name][i]
                assert (stored == 0) if exact == 0 else close(stored, exact), (key, name, context)
            spot = tm.sweet_spot(m, hw, context, precision, **kw)
            if math.isinf(spot):
                assert case["sweet_spot"][i] is None
            else:
                assert close(case["sweet_spot"][i], spot)
                at_spot = tm.cost_per_token(m, hw, spot, context, precision, **kw) * US
                assert close(case["cost_at_sweet_spot_us"][i], at_spot)
            fits = tm.max_batch(m, hw, context, gpus, precision, **kw)
            assert case["max_batch"][i] == (None if math.isinf(fits) else int(fits))
        weights = tm.cost_terms(m, hw, b, 0, precision, **kw).weights * US
        assert close(we.decode_curve(case["weights_us"]), weights), key


def test_aliases_point_at_stored_cases(pair) -> None:
    """An alias names a case stored in full (whose numbers the test above checks under the
    alias's own formats)."""
    _, _, tables = pair
    for case in tables["cases"].values():
        if "same_as" in case:
            assert "same_as" not in tables["cases"][case["same_as"]]


def test_native_fp8_weights_are_stored_once() -> None:
    """DeepSeek-V3's checkpoint is FP8: on an H100 its native case is the FP8 case."""
    tables = we.explorer_tables(tm.model("deepseek-v3"), tm.hardware("h100-sxm"))
    assert tables["cases"]["native|bf16|refined"] == {"same_as": "fp8|bf16|refined"}


def test_a100_offers_no_fp8_weights_but_native_deepseek() -> None:
    assert we.weight_formats_offered(tm.model("deepseek-v3"), tm.hardware("a100-sxm-80gb")) == [
        "bf16",
        "native",
    ]


def test_curve_coding_keeps_four_significant_figures() -> None:
    rng = np.random.default_rng(7)
    values = 10 ** rng.uniform(-6, 9, size=2000)
    back = we.decode_curve(we.encode_curve(values))
    assert np.max(np.abs(back / values - 1)) <= TOL
    for bad in ([1.0, 0.0], [1.0, math.inf], [-1.0]):
        with pytest.raises(ValueError, match="finite values > 0"):
            we.encode_curve(np.array(bad))


def test_written_files_parse_and_are_skipped_when_current(tmp_path, monkeypatch) -> None:
    pairs = [("llama-3.1-8b", "h100-sxm")]
    monkeypatch.setattr(we, "model_names", lambda: [pairs[0][0]])
    monkeypatch.setattr(we, "hardware_names", lambda: [pairs[0][1]])
    report = we.write_site_files(tmp_path)
    assert report.files == 2 and report.bytes > 0
    index_text = (tmp_path / "index.js").read_text()
    prefix = f"window.{we.INDEX_GLOBAL}="
    assert index_text.startswith(prefix)
    index = json.loads(index_text.removeprefix(prefix).rstrip().removesuffix(";"))
    assert index["defaults"]["batch"] == 64 and index["batches"] == list(we.batch_grid())
    price = tm.hardware("h100-sxm").usd_per_hour
    factor = index["hardware"]["h100-sxm"]["usd_per_million_per_gpu_us"]
    assert math.isclose(factor, tm.usd_per_million_tokens(1e-6, price))
    table_text = (tmp_path / "tables" / index["tables"]["llama-3.1-8b/h100-sxm"]).read_text()
    body = table_text.split("]=", 1)[1].rstrip().removesuffix(";")
    assert json.loads(body)["model"] == "llama-3.1-8b"
    assert we.write_site_files(tmp_path).files == 0  # unchanged library: nothing rewritten
    assert we.write_site_files(tmp_path, force=True).files == 2
