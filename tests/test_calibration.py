"""tokenmath.calibration: the end-to-end model of the vLLM sweeps, the fit that gives
CALIBRATED, its reproduction and its quality in and out of sample. Hand computations use
figures typed from the presets' sources."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import calibration as cal

pytestmark = pytest.mark.filterwarnings("error")

H100_BW, H100_C = 3.35e12, 989.4e12
W8 = 8.03e9 * 2  # Llama 3.1 8B, BF16 bytes
KV8 = 32 * 8 * 128 * 2 * 2  # bytes per cached token


@pytest.fixture(scope="module")
def full_fit() -> cal.Fit:
    return cal.fit()


def test_calibrated_is_exported_lazily_and_holds_the_constants():
    assert tm.CALIBRATED is cal.CALIBRATED
    assert cal.CALIBRATED.mem_efficiency == cal.MEM_EFFICIENCY
    assert cal.CALIBRATED.compute_efficiency == cal.COMPUTE_EFFICIENCY
    assert cal.CALIBRATED.describe().startswith("mem_efficiency=")
    code = (
        "import sys, tokenmath\n"
        "assert 'tokenmath.calibration' not in sys.modules\n"
        "assert 'tokenmath.serving' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_points_are_the_twenty_total_throughputs():
    points = cal.sweep_points()
    assert len(points) == 20 and tuple(p.id for p in points) == cal.PROVENANCE.points
    assert all(p.id.endswith("/throughput") for p in points)
    assert {p.gpus for p in points} == {1, 4}
    assert all(p.hw.name == "h100-sxm" for p in points)  # the 8B run's GPU is assumed
    assert cal.ASSUMED_CHIP == {"vllm-llama-8b": "h100-sxm"}
    with pytest.raises(ValueError, match="case must be one of 'vllm-llama-70b', 'vllm-llama-8b'"):
        cal.sweep_points("vllm-llama-13b")


def test_waves():
    assert cal.waves(512, 208.0).tolist() == [208.0, 208.0, 96.0]
    assert cal.waves(416, 208.0).tolist() == [208.0, 208.0]
    assert cal.waves(64, math.inf).tolist() == [64.0]
    with pytest.raises(ValueError, match="fitting must be >= 1"):
        cal.waves(4, 0.5)
    with pytest.raises(ValueError, match="batch"):
        cal.waves(0, 10)


def test_first_order_run_of_one_request_by_hand():
    p = cal.sweep_points("vllm-llama-8b")[0]  # batch 1, 2,035 in, 300 out
    prefill = max((W8 + 2035 * KV8) / H100_BW, 2035 * 2 * 8.03e9 / H100_C)
    decode = sum((W8 + (2035 + k) * KV8) / H100_BW for k in range(299))  # token 1 from prefill
    assert math.isclose(cal.sweep_seconds(p), prefill + decode)
    assert math.isclose(cal.predicted_throughput(p), 300 / (prefill + decode))


def test_waves_follow_max_batch():
    p = [q for q in cal.sweep_points("vllm-llama-8b") if q.batch == 512][0]
    fitting = tm.max_batch(p.model, p.hw, p.input_tokens + p.whole_output_tokens)
    sizes = cal.waves(512, fitting)
    expected = sum(
        tm.serving.static_batch_time(p.model, p.hw, b, p.input_tokens, p.whole_output_tokens)
        for b in sizes
    )
    assert len(sizes) == 3
    assert math.isclose(cal.sweep_seconds(p), expected)
    assert cal.sweep_seconds(p, respect_memory=False) < expected


def test_tensor_parallel_term_adds_to_the_70b_run_only():
    p70 = cal.sweep_points("vllm-llama-70b")[3]
    p8 = cal.sweep_points("vllm-llama-8b")[3]
    extra = cal.sweep_seconds(p70, allreduce_latency_s=1e-5) - cal.sweep_seconds(p70)
    n = p70.whole_output_tokens
    by_hand = tm.parallel.tensor_parallel_seconds(
        p70.model, p70.hw, p70.batch * p70.input_tokens, 4, latency_s=1e-5
    ) + (n - 1) * tm.parallel.tensor_parallel_seconds(
        p70.model, p70.hw, p70.batch, 4, latency_s=1e-5
    )
    assert math.isclose(extra, by_hand)
    assert cal.sweep_seconds(p8, allreduce_latency_s=1e-5) == cal.sweep_seconds(p8)


@pytest.mark.parametrize(
    ("mem", "comp", "latency"), [(1.0, 1.0, None), (0.6, 0.4, 1.2e-5), (0.3, 0.9, 0.0)]
)
def test_the_fit_rescales_the_same_passes(mem, comp, latency):
    """The fit takes each run apart once and rescales its passes; that must be the run."""
    points = cal.sweep_points()
    params = np.array([mem, comp, 0.0 if latency is None else latency / 1e-6])
    fast = cal._log_residuals(points, params, latency is not None)
    a = tm.Assumptions(mem_efficiency=mem, compute_efficiency=comp)
    slow = cal.residuals(points, a, allreduce_latency_s=latency)
    assert np.allclose(fast, slow, rtol=0, atol=1e-12)


def test_every_run_is_below_its_bound():
    for p in cal.sweep_points():
        assert p.measured <= cal.predicted_throughput(p)
        assert p.measured <= cal.predicted_throughput(p, tm.REFINED)


def test_an_h100_pcie_is_ruled_out_for_the_8b_run():
    """The 8B run reads its weights faster than an H100 PCIe can: its batch-1 throughput
    is above that card's bound, so the assumed GPU must be faster."""
    import dataclasses

    p = cal.sweep_points("vllm-llama-8b")[0]
    pcie = dataclasses.replace(p, hw=tm.hardware("h100-pcie"))
    assert p.measured > cal.predicted_throughput(pcie)
    assert p.measured < cal.predicted_throughput(p)


def test_refit_reproduces_the_stored_constants(full_fit):
    assert full_fit.mem_efficiency == pytest.approx(cal.MEM_EFFICIENCY, rel=2e-3)
    assert full_fit.compute_efficiency == pytest.approx(cal.COMPUTE_EFFICIENCY, rel=2e-3)
    assert full_fit.allreduce_latency_s == pytest.approx(cal.ALLREDUCE_LATENCY_S, rel=0.02)
    assert full_fit.points == cal.PROVENANCE.points
    stored = cal.residuals()
    assert math.sqrt(np.mean(stored**2)) == pytest.approx(cal.PROVENANCE.rms_log_residual, abs=5e-4)
    assert np.max(np.abs(stored)) == pytest.approx(cal.PROVENANCE.max_abs_log_residual, abs=5e-4)
    assert full_fit.rms == pytest.approx(cal.PROVENANCE.rms_log_residual, abs=5e-4)


def test_the_fit_is_a_minimum(full_fit):
    base = float(np.sum(np.square(full_fit.residuals)))
    for dm, dc in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
        a = tm.Assumptions(
            mem_efficiency=full_fit.mem_efficiency + dm,
            compute_efficiency=full_fit.compute_efficiency + dc,
        )
        r = cal.residuals(assume=a, allreduce_latency_s=full_fit.allreduce_latency_s)
        assert float(np.sum(r**2)) > base


def test_two_factors_leave_a_residual_split_by_model(full_fit):
    """The residuals that justify the third constant: without communication every 70B point
    is over-predicted and every 8B point under-predicted; with it the split is gone."""
    two = cal.fit(tensor_parallel=False)
    r = np.array(two.residuals)
    assert np.all(r[:10] < 0) and np.all(r[10:] > 0)
    assert two.allreduce_latency_s is None
    assert full_fit.rms < 0.6 * two.rms
    r3 = np.array(full_fit.residuals)
    assert np.any(r3[:10] > 0) and np.any(r3[:10] < 0) and np.any(r3[10:] < 0)
    assert 1e-6 < full_fit.allreduce_latency_s < 5e-5  # microseconds, as NVLink collectives take


def test_out_of_sample_errors():
    results = cal.out_of_sample()
    assert [(r.fitted_on, r.predicted) for r in results] == [
        ("vllm-llama-8b", "vllm-llama-70b"),
        ("vllm-llama-70b", "vllm-llama-8b"),
    ]
    for r in results:
        assert len(r.residuals) == 10
        assert r.fit.rms < r.rms < 0.1  # worse than in sample, within 10% rms
        assert r.max_abs < 0.15
    plain = cal.out_of_sample(tensor_parallel=False)
    assert all(p.rms > r.rms for p, r in zip(plain, results, strict=True))


def test_bad_fit_options():
    with pytest.raises(ValueError, match="tensor_parallel must be True or False"):
        cal.fit(tensor_parallel="yes")
    with pytest.raises(ValueError, match="points must hold at least one"):
        cal.fit([])
