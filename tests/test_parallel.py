"""tokenmath.parallel: collectives, expert-parallel traffic and replicated weights, checked
against figures computed by hand from the configurations (typed here from their sources)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tokenmath as tm
from tokenmath import parallel

pytestmark = pytest.mark.filterwarnings("error")

DS = tm.model("deepseek-v3")
LLAMA70 = tm.model("llama-3.1-70b")
H100, H800 = tm.hardware("h100-sxm"), tm.hardware("h800")

# config_671B.json: dim 7168, 61 layers of which 3 dense (58 MoE), 8 of 256 experts per token;
# llama-models sku_list arch_args: dim 4096 / 8192 / 16384.
FACTS_HIDDEN = {
    "deepseek-v3": (7168, 58),
    "deepseek-r1": (7168, 58),
    "kimi-k2": (7168, 60),
    "llama-3.1-8b": (4096, 0),
    "llama-3.1-70b": (8192, 0),
    "llama-3.1-405b": (16384, 0),
}


@pytest.mark.parametrize("name", sorted(FACTS_HIDDEN))
def test_presets_carry_hidden_size_and_moe_layers(name):
    m = tm.model(name)
    assert (m.hidden_size, m.moe_layers) == FACTS_HIDDEN[name]


def test_model_checks_the_new_fields():
    with pytest.raises(ValueError, match="hidden_size"):
        dataclasses.replace(DS, hidden_size=-1)
    with pytest.raises(ValueError, match="moe_layers must be a whole number >= 1"):
        dataclasses.replace(DS, moe_layers=-1)
    with pytest.raises(ValueError, match="moe_layers must be 0 for a dense model"):
        dataclasses.replace(LLAMA70, moe_layers=2)
    dense = dataclasses.replace(DS, total_params=DS.active_params, **tm.specs.NO_EXPERTS)
    assert dense.moe_layers == 0


def test_ring_allreduce():
    assert parallel.allreduce_seconds(8e6, 8, 400e9, 1e-5) == pytest.approx(
        2 * 7 / 8 * 8e6 / 400e9 + 1e-5
    )
    assert parallel.allreduce_seconds(8e6, 1, 400e9, 1e-5) == 0.0
    out = parallel.allreduce_seconds(np.array([0.0, 1e6]), 2, 1e9)
    assert out.tolist() == [0.0, 1e-3]


def test_tensor_parallel_llama_70b_on_four_h100s():
    # 80 layers x 2 all-reduces of tokens x 8192 x 2 bytes, ring factor 2 x 3/4, 450 GB/s
    for tokens in (1, 64, 2035 * 8):
        message = tokens * 8192 * 2
        expected = 160 * (1.5 * message / 450e9 + 1e-5)
        got = parallel.tensor_parallel_seconds(LLAMA70, H100, tokens, 4, latency_s=1e-5)
        assert math.isclose(got, expected)
    assert parallel.tensor_parallel_seconds(LLAMA70, H100, 64, 1, latency_s=1e-5) == 0.0


def test_expert_parallel_bytes_deepseek_decode():
    # 128 tokens x 8 experts x 7168 x (1 FP8 + 2 BF16) bytes x 58 MoE layers
    expected = 128 * 8 * 7168 * 3 * 58
    assert parallel.expert_parallel_bytes(DS, 128) == expected
    assert parallel.expert_parallel_bytes(DS, 128, combine_bytes=1.0) == expected * 2 / 3


def test_expert_parallel_seconds_split_by_link():
    sent = 128 * 8 * 7168 * 3 * 58
    # EP144 over 18 nodes of 8: 136/144 of the copies leave the node at 50 GB/s
    assert math.isclose(
        parallel.expert_parallel_seconds(DS, H800, 128, 144, 8), sent * 136 / 144 / 50e9
    )
    # inside one node only NVLink carries traffic: 7/8 of the copies at 200 GB/s
    assert math.isclose(parallel.expert_parallel_seconds(DS, H800, 128, 8, 8), sent * 7 / 8 / 200e9)


def test_forwarding_inside_the_node_sends_one_copy_per_remote_node():
    per_copy = 7168 * 3 * 58  # bytes of one token copy over all MoE layers
    # EP32 over 4 nodes: each remote node holds one of 8 uniform copies w.p. 1 - (3/4)^8
    remote_nodes = 3 * (1 - 0.75**8)
    ib = 1000 * per_copy * remote_nodes / 50e9
    nvlink = 1000 * per_copy * 8 * 7 / 8 / 200e9
    got = parallel.expert_parallel_seconds(DS, H800, 1000, 32, 8, forward_in_node=True)
    assert math.isclose(got, max(ib, nvlink))
    direct = parallel.expert_parallel_seconds(DS, H800, 1000, 32, 8)
    assert math.isclose(direct, 1000 * per_copy * 8 * 24 / 32 / 50e9)
    assert got < direct


def test_replicated_weights_per_gpu():
    routed = 58 * 256 * 3 * 7168 * 2048
    shared = 671e9 - routed
    got = parallel.weight_bytes_per_gpu(DS, "native", 144, redundant_experts=32)
    assert math.isclose(got, shared + routed * 288 / 256 / 144)  # FP8: 1 byte per weight
    split = parallel.weight_bytes_per_gpu(DS, "native", 144, replicate_shared=False)
    assert math.isclose(split, DS.weight_bytes("native") / 144)
    assert math.isclose(parallel.weight_bytes_per_gpu(LLAMA70, "bf16", 4), 70.55e9 * 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: parallel.tensor_parallel_seconds(
                dataclasses.replace(LLAMA70, hidden_size=0), H100, 1, 4
            ),
            "hidden_size must be > 0",
        ),
        (lambda: parallel.expert_parallel_bytes(LLAMA70, 1), "routed experts and moe_layers"),
        (
            lambda: parallel.expert_parallel_seconds(DS, H800, 1, 8, 16),
            r"gpus_per_node must divide gpus \(8\)",
        ),
        (
            lambda: parallel.expert_parallel_seconds(DS, H800, 1, 12, 8),
            r"gpus_per_node must divide gpus \(12\)",
        ),
        (
            lambda: parallel.expert_parallel_seconds(DS, H800, 1, 16, 8, forward_in_node=1),
            "forward_in_node must be True or False",
        ),
        (
            lambda: parallel.expert_parallel_seconds(
                DS, dataclasses.replace(H800, scaleout_bytes_per_s=0.0), 1, 16, 8
            ),
            "scaleout_bytes_per_s must be > 0",
        ),
        (
            lambda: parallel.tensor_parallel_seconds(LLAMA70, tm.hardware("h100-pcie"), 1, 2),
            "scaleup_bytes_per_s must be > 0",
        ),
        (lambda: parallel.allreduce_seconds(-1.0, 2, 1e9), "message_bytes must be >= 0"),
        (
            lambda: parallel.weight_bytes_per_gpu(LLAMA70, "bf16", 4, redundant_experts=2),
            "redundant_experts must be 0",
        ),
        (
            lambda: parallel.weight_bytes_per_gpu(DS, "bf16", 4, replicate_shared=1),
            "replicate_shared must be True or False",
        ),
    ],
)
def test_bad_inputs_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
