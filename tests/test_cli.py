"""The ``tokenmath`` command: every subcommand, every preset, JSON output, one-line errors."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tokenmath as tm
from tokenmath import cli

pytestmark = pytest.mark.filterwarnings("error")

PAIRS = [(m, h) for m in tm.model_names() for h in tm.hardware_names()]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_presets_table_lists_every_preset_with_units(capsys):
    code, out, err = run(capsys, "presets")
    assert code == 0 and err == ""
    for name in tm.model_names() + tm.hardware_names():
        assert name in out
    for unit in ("B params", "bytes/token", "tokens", "TFLOP/s", "TB/s", "GB", "USD/h"):
        assert unit in out
    assert "70,272" in out  # DeepSeek-V3's KV bytes per token, with a thousands separator


def test_presets_json_matches_the_library(capsys):
    data = run_json(capsys, "presets")
    assert [m["name"] for m in data["models"]] == tm.model_names()
    assert [h["name"] for h in data["hardware"]] == tm.hardware_names()
    for record in data["models"]:
        m = tm.model(record["name"])
        assert record["total_params"] == m.total_params
        assert record["active_params"] == m.active_params
        assert record["kv_bytes_per_token"] == tm.kv_bytes_per_token(m)
        assert record["context_limit_tokens"] == m.context_limit
        assert record["sources"] == list(m.sources)
    for record in data["hardware"]:
        hw = tm.hardware(record["name"])
        assert record["bf16_flops_per_s"] == hw.flops("bf16")
        assert record["fp8_flops_per_s"] == hw.flops_per_s.get("fp8")
        assert record["hbm_bytes_per_s"] == hw.hbm_bytes_per_s
        assert record["usd_per_hour"] == hw.usd_per_hour
        assert record["sources"]


@pytest.mark.parametrize(("model", "hardware"), PAIRS)
def test_cost_for_every_preset_pair(capsys, model, hardware):
    m, hw = tm.model(model), tm.hardware(hardware)
    r = run_json(capsys, "cost", model, hardware, "--batch", "256", "--context", "2048")
    assert r["step_time_s"] == tm.step_time(m, hw, 256, 2048)
    assert r["gpu_seconds_per_token"] == tm.cost_per_token(m, hw, 256, 2048)
    assert r["usd_per_gpu_hour"] == hw.usd_per_hour
    assert r["usd_per_million_tokens"] == pytest.approx(
        tm.cost_per_token(m, hw, 256, 2048) * hw.usd_per_hour / 3600 * 1e6, rel=1e-12
    )
    assert r["region"] == tm.region(m, hw, 256, 2048)
    sweet = tm.sweet_spot(m, hw, 2048)
    assert r["sweet_spot_batch"] == (None if math.isinf(sweet) else sweet)
    assert r["floor_gpu_seconds_per_token"] == tm.cost_floor(m, hw, 2048)
    code, out, err = run(capsys, "cost", model, hardware, "--batch", "256", "--context", "2048")
    assert code == 0 and err == ""
    assert model in out and hardware in out
    for unit in ("ms", "GPU-microseconds", "USD", "batch"):
        assert unit in out


@pytest.mark.parametrize(("model", "hardware"), PAIRS)
def test_sweet_spot_for_every_preset_pair(capsys, model, hardware):
    m, hw = tm.model(model), tm.hardware(hardware)
    r = run_json(capsys, "sweet-spot", model, hardware, "--context", "1000")
    sweet = tm.sweet_spot(m, hw, 1000)
    assert r["sweet_spot_batch"] == (None if math.isinf(sweet) else sweet)
    assert r["batch1_penalty"] == tm.batch1_penalty(m, hw, 1000)
    assert r["ops_per_byte"] == hw.ops_per_byte()
    code, out, err = run(capsys, "sweet-spot", model, hardware)
    assert code == 0 and err == "" and "FLOP/byte" in out


def test_cost_options_precision_gpus_price(capsys):
    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    r = run_json(
        capsys, "cost", "DeepSeek-V3", "H100-SXM", "--batch", "64", "--context", "4096",
        "--precision", "fp8", "--gpus", "8", "--price", "2",
    )  # fmt: skip
    assert r["precision"] == "fp8" and r["gpus"] == 8
    assert r["step_time_s"] == tm.step_time(m, hw, 64, 4096, "fp8", 8)
    assert r["usd_per_gpu_hour"] == 2.0 and r["price_source"] == "given"
    assert r["usd_per_million_tokens"] == pytest.approx(
        tm.cost_per_token(m, hw, 64, 4096, "fp8") * 2 / 3600 * 1e6, rel=1e-12
    )
    assert r["max_batch_in_hbm"] == tm.max_batch(m, hw, 4096, 8, "fp8")
    assert r["min_gpus_for_weights"] == 9


def test_sweet_spot_headline_in_human_output(capsys):
    code, out, _ = run(capsys, "sweet-spot", "deepseek-v3", "h100-sxm")
    assert code == 0
    assert "5,356" in out and "295.3" in out and "18.14" in out


def test_infinite_sweet_spot_is_null_in_json_and_words_in_text(capsys):
    r = run_json(capsys, "sweet-spot", "llama-3.1-8b", "h100-sxm", "--context", "1000000")
    assert r["sweet_spot_batch"] is None and r["step_time_at_sweet_spot_s"] is None
    code, out, _ = run(capsys, "sweet-spot", "llama-3.1-8b", "h100-sxm", "--context", "1000000")
    assert code == 0 and "none (KV line above compute)" in out
    assert "beyond llama-3.1-8b's limit" in out  # 10^6 tokens > the 128K context limit


def test_context_zero_fits_any_batch(capsys):
    r = run_json(capsys, "cost", "llama-3.1-8b", "h100-sxm", "--batch", "1", "--context", "0")
    assert r["max_batch_in_hbm"] is None


BAD_ARGS = [
    (["cost", "gpt-5", "h100-sxm", "--batch", "1", "--context", "0"], "unknown model 'gpt-5'"),
    (["cost", "deepseek-v3", "h100", "--batch", "1", "--context", "0"], "closest: "),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "-4", "--context", "0"], "batch must be > 0"),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "0", "--context", "0"], "batch must be > 0"),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "nan", "--context", "0"], "finite"),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "ten", "--context", "0"], "--batch"),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "1", "--context", "-1"], "context must be"),
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "1"], "--context"),
    (
        [
            "cost",
            "deepseek-v3",
            "h100-sxm",
            "--batch",
            "1",
            "--context",
            "0",
            "--precision",
            "int4",
        ],
        "precision must be one of 'bf16', 'fp8', 'fp4', 'mxfp4', 'native'; got 'int4'",
    ),  # fmt: skip
    (
        [
            "cost",
            "deepseek-v3",
            "a100-sxm-80gb",
            "--batch",
            "1",
            "--context",
            "0",
            "--precision",
            "fp8",
        ],
        "not supported by a100-sxm-80gb",
    ),  # fmt: skip
    (["cost", "deepseek-v3", "h100-sxm", "--batch", "1", "--context", "0", "--gpus", "0"], "gpus"),
    (
        ["cost", "deepseek-v3", "h100-sxm", "--batch", "1", "--context", "0", "--price", "-1"],
        "usd_per_gpu_hour must be >= 0",
    ),
    (["sweet-spot", "deepseek-v3"], "hardware"),
    (["sweet-spot", "deepseek-v3", "h100-sxm", "--context", "inf"], "context must be finite"),
    (["sweet-spot", "deepseek-v3", "tpu-v6e", "--precision", "fp8"], "not supported by tpu-v6e"),
    (["price", "deepseek-v3"], "invalid choice"),
    ([], "command"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_ARGS)
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("tokenmath: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "presets" in capsys.readouterr().out


def _command() -> list[str]:
    script = Path(sys.executable).with_name("tokenmath")
    found = str(script) if script.exists() else shutil.which("tokenmath")
    assert found, "the tokenmath console script is not installed (pip install -e .)"
    return [found]


@pytest.mark.parametrize("launcher", ["script", "module"])
def test_console_script_and_python_m(launcher):
    base = _command() if launcher == "script" else [sys.executable, "-m", "tokenmath"]
    ok = subprocess.run(
        [*base, "cost", "deepseek-v3", "h100-sxm", "--batch", "6000", "--context", "0", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["region"] == "compute-bound"
    bad = subprocess.run(
        [*base, "cost", "deepseek-v3", "h100-sxm", "--batch", "-1", "--context", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["tokenmath: error: batch must be > 0; got -1.0"]


def test_import_tokenmath_stays_light():
    code = (
        "import sys, tokenmath; heavy = {'sympy', 'matplotlib', 'ipywidgets'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_assumption_sets_and_kv_precision_reach_the_library(capsys):
    m, hw = tm.model("deepseek-v3"), tm.hardware("h100-sxm")
    r = run_json(
        capsys, "sweet-spot", "deepseek-v3", "h100-sxm", "--assume", "refined",
        "--kv-precision", "fp8", "--context", "2000", "--precision", "native", "--json",
    )  # fmt: skip
    kw = {"assume": tm.REFINED, "kv_precision": "fp8"}
    assert r["assumptions"] == "refined" and r["kv_precision"] == "fp8"
    assert r["sweet_spot_batch"] == pytest.approx(tm.sweet_spot(m, hw, 2000, "native", **kw))
    assert r["batch1_penalty"] == pytest.approx(tm.batch1_penalty(m, hw, 2000, "native", **kw))
    assert r["ops_per_byte"] == pytest.approx(hw.ops_per_byte("fp8"))
    r = run_json(
        capsys, "cost", "kimi-k2", "h200", "--batch", "1", "--context", "0", "--gpus", "8",
        "--assume", "refined", "--json",
    )  # fmt: skip
    want = tm.cost_per_token(tm.model("kimi-k2"), tm.hardware("h200"), 1, 0, assume=tm.REFINED)
    assert r["gpu_seconds_per_token"] == pytest.approx(want)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--assume", "exact", "--assume must be one of 'first-order', 'refined'; got 'exact'"),
        ("--kv-precision", "int4", "kv_precision must be one of 'bf16', 'fp8'; got 'int4'"),
    ],
)
def test_bad_assumption_options(capsys, option, value, expected):
    status, out, err = run(capsys, "sweet-spot", "deepseek-v3", "h100-sxm", option, value)
    assert status == 2 and out == ""
    assert err.strip() == f"tokenmath: error: {expected}"
