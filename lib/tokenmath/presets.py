"""Sourced presets: real models and accelerators, every figure with where it came from.

Look them up by name, case-insensitively: :func:`model` and :func:`hardware`. Copy one with
changes through ``dataclasses.replace``. The tables below are the data; read them as
such. KV bytes per token are *computed* from each model's attention layout, never typed.

Routed-expert weights are *computed* from each configuration's expert count and sizes
(three matrices of ``d_model x d_expert`` per SwiGLU expert), never typed as a total.

Accelerator prices follow one policy: the midpoint of the dated on-demand quotes for one
accelerator that the sources give (a low and a high quote), the vendor's own on-demand list
price where one exists (Google's TPUs), or the one quote there is (a single quote). Rental
prices move fast; each entry names its quotes and their dates.
"""

from __future__ import annotations

import difflib

from ._validate import echo
from .specs import AttentionGroup, Hardware, Model

K = 1024


def _gqa(layers: int, kv_heads: int, head_dim: int, query_heads: int, **kw) -> AttentionGroup:
    return AttentionGroup(
        layers=layers,
        kind="gqa",
        kv_heads=kv_heads,
        head_dim=head_dim,
        query_heads=query_heads,
        **kw,
    )


def _mla(layers: int, kv_lora_rank: int, rope_dim: int, query_heads: int) -> AttentionGroup:
    return AttentionGroup(
        layers=layers,
        kind="mla",
        latent_dim=kv_lora_rank + rope_dim,
        rope_dim=rope_dim,
        query_heads=query_heads,
    )


def _routed(
    moe_layers: int, experts: int, d_model: int, d_expert: int, biases: bool = False
) -> float:
    """Weights of every routed expert in every MoE layer: 3 SwiGLU matrices per expert."""
    per_expert = 3 * d_model * d_expert + (2 * d_expert + d_model if biases else 0)
    return float(moe_layers * experts * per_expert)


_LLAMA_SRC = (
    "meta-llama/llama-models models/sku_list.py @364ed4e (arch_args: dim, layers, heads, KV heads)",
    "meta-llama/llama-models models/llama3_1/MODEL_CARD.md (128K context)",
    "parameter count computed from that architecture (Meta reports 8B / 70B / 405B)",
)

MODELS: tuple[Model, ...] = (
    Model(
        name="deepseek-v3",
        family="DeepSeek",
        total_params=671e9,
        active_params=37e9,
        # MLA: one latent of kv_lora_rank 512 + qk_rope_head_dim 64 per layer, 128 heads.
        attention=(_mla(61, 512, 64, query_heads=128),),
        context_limit=128 * K,
        # 58 MoE layers (3 of 61 dense), 256 routed experts of 7168 x 2048, 8 per token.
        routed_params=_routed(58, 256, 7168, 2048),
        routed_experts=256,
        experts_per_token=8,
        native_precision="fp8",
        hidden_size=7168,
        moe_layers=58,
        sources=(
            "deepseek-ai/DeepSeek-V3 README.md §3 (671B total, 37B activated, 128K context, "
            "FP8 weights released)",
            "deepseek-ai/DeepSeek-V3 inference/configs/config_671B.json (61 layers, 3 dense, "
            "128 heads, kv_lora_rank 512, qk_rope_head_dim 64, 256 routed experts, 8 "
            "activated, moe_inter_dim 2048, dim 7168)",
        ),
        notes="The 14B multi-token-prediction module is left out (671B main model). Native "
        "precision: the released checkpoint stores its weights in FP8 (a few small tensors "
        "such as norms stay in higher precision; counted as FP8 here).",
    ),
    Model(
        name="deepseek-r1",
        family="DeepSeek",
        total_params=671e9,
        active_params=37e9,
        attention=(_mla(61, 512, 64, query_heads=128),),
        context_limit=128 * K,
        routed_params=_routed(58, 256, 7168, 2048),
        routed_experts=256,
        experts_per_token=8,
        native_precision="fp8",
        hidden_size=7168,
        moe_layers=58,
        sources=(
            "deepseek-ai/DeepSeek-R1 README.md (671B / 37B / 128K; built on DeepSeek-V3-Base, "
            "same architecture and FP8 weights)",
        ),
    ),
    Model(
        name="kimi-k2",
        family="Moonshot",
        total_params=1.026e12,
        active_params=32e9,
        attention=(_mla(61, 512, 64, query_heads=64),),
        context_limit=128 * K,
        # 60 MoE layers (1 of 61 dense), 384 routed experts of 7168 x 2048, 8 per token.
        routed_params=_routed(60, 384, 7168, 2048),
        routed_experts=384,
        experts_per_token=8,
        native_precision="fp8",
        hidden_size=7168,
        moe_layers=60,
        sources=(
            "MoonshotAI/Kimi-K2 README.md §2 Model Summary (1T total, 32B activated, 61 layers "
            "with 1 dense, 64 attention heads, 384 experts, 8 selected, expert hidden 2048, "
            "attention hidden 7168, MLA, 128K context; block-FP8 weights)",
            "total 1.026T counted from that architecture with the MLA sizes below",
        ),
        notes="MLA dimensions (512 + 64) come from third-party copies of the configuration, "
        "not the original file; the parameter count they imply (1.026T / 32.9B) matches "
        "'1T / 32B'.",
    ),
    Model(
        name="llama-3.1-8b",
        family="Llama",
        total_params=8.03e9,
        active_params=8.03e9,
        attention=(_gqa(32, 8, 128, query_heads=32),),
        context_limit=128 * K,
        hidden_size=4096,
        sources=_LLAMA_SRC,
    ),
    Model(
        name="llama-3.1-70b",
        family="Llama",
        total_params=70.55e9,
        active_params=70.55e9,
        attention=(_gqa(80, 8, 128, query_heads=64),),
        context_limit=128 * K,
        hidden_size=8192,
        sources=_LLAMA_SRC,
    ),
    Model(
        name="llama-3.1-405b",
        family="Llama",
        total_params=405.85e9,
        active_params=405.85e9,
        attention=(_gqa(126, 8, 128, query_heads=128),),
        context_limit=128 * K,
        hidden_size=16384,
        sources=_LLAMA_SRC,
    ),
    Model(
        name="mixtral-8x7b",
        family="Mistral",
        total_params=46.7e9,
        active_params=12.9e9,
        attention=(_gqa(32, 8, 128, query_heads=32),),
        context_limit=32_768,
        routed_params=_routed(32, 8, 4096, 14336),
        routed_experts=8,
        experts_per_token=2,
        sources=(
            "Mistral model card (46.7B total, 12.9B active), copied in Azure/azureml-assets "
            "mistralai-Mixtral-8x7B-Instruct-v01/description.md",
            "HF mistralai/Mixtral-8x7B-Instruct-v0.1 config.json (32 layers, 32 heads, 8 KV "
            "heads, head dim 128, hidden 4096, intermediate 14336, 8 experts, 2 per token, "
            "32,768 positions); arXiv 2401.04088",
        ),
        notes="Full attention assumed: copies of the config disagree on a 4,096 sliding window.",
    ),
    Model(
        name="mixtral-8x22b",
        family="Mistral",
        total_params=141e9,
        active_params=39e9,
        attention=(_gqa(56, 8, 128, query_heads=48),),
        context_limit=65_536,
        routed_params=_routed(56, 8, 6144, 16384),
        routed_experts=8,
        experts_per_token=2,
        sources=(
            "Mistral announcement (141B total, 39B active, 64K context), as copied on "
            "ollama.com/library/mixtral",
            "HF mistralai/Mixtral-8x22B-v0.1 config.json (56 layers, 48 heads, 8 KV heads, "
            "head dim 128, hidden 6144, intermediate 16384, 8 experts, 2 per token)",
        ),
    ),
    Model(
        name="qwen3-235b-a22b",
        family="Qwen",
        total_params=235e9,
        active_params=22e9,
        attention=(_gqa(94, 4, 128, query_heads=64),),
        context_limit=128 * K,
        routed_params=_routed(94, 128, 4096, 1536),
        routed_experts=128,
        experts_per_token=8,
        sources=(
            "QwenLM/Qwen3 Qwen3_Technical_Report.pdf §2 and Table 2 (235B total, 22B active, "
            "94 layers, 64 Q / 4 KV heads, 128K context with YaRN)",
            "HF Qwen/Qwen3-235B-A22B config.json (head_dim 128, hidden 4096, "
            "moe_intermediate_size 1536), via third-party copies",
        ),
        notes="32,768 tokens natively; 128K with YaRN scaling.",
    ),
    Model(
        name="qwen3-30b-a3b",
        family="Qwen",
        total_params=30.5e9,
        active_params=3.3e9,
        attention=(_gqa(48, 4, 128, query_heads=32),),
        context_limit=128 * K,
        routed_params=_routed(48, 128, 2048, 768),
        routed_experts=128,
        experts_per_token=8,
        sources=(
            "QwenLM/Qwen3 Qwen3_Technical_Report.pdf Table 2 (48 layers, 32 Q / 4 KV heads)",
            "HF Qwen/Qwen3-30B-A3B config.json (hidden 2048, moe_intermediate_size 768), via "
            "third-party copies; parameter count computed from it: 30.53B / 3.35B",
        ),
        notes="32,768 tokens natively; 128K with YaRN scaling.",
    ),
    Model(
        name="gpt-oss-120b",
        family="OpenAI",
        total_params=116.8e9,
        active_params=5.1e9,
        # Even layers use a 128-token sliding window, odd layers attend to everything.
        attention=(
            _gqa(18, 8, 64, query_heads=64),
            _gqa(18, 8, 64, query_heads=64, window=128),
        ),
        context_limit=131_072,
        # 128 experts of 2880 x 2880 (gate and up fused to 2 x 2880), with biases, 4 per token.
        routed_params=_routed(36, 128, 2880, 2880, biases=True),
        routed_experts=128,
        experts_per_token=4,
        native_expert_precision="mxfp4",
        sources=(
            "openai/gpt-oss README.md (117B parameters, 5.1B active; MoE weights quantized to "
            "MXFP4, the rest BF16; 120b runs on a single 80 GB GPU); model card 116.8B",
            "openai/gpt-oss gpt_oss/torch/model.py ModelConfig (36 layers, 8 KV heads, head dim "
            "64, 64 heads, sliding_window 128 on even layers, 4096 x YaRN 32 context, 128 "
            "experts, 4 per token, intermediate 2880)",
        ),
        notes="OpenAI's active count leaves out the 0.58B input embedding, which the "
        "shared weights here include.",
    ),
    Model(
        name="gpt-oss-20b",
        family="OpenAI",
        total_params=20.9e9,
        active_params=3.6e9,
        attention=(
            _gqa(12, 8, 64, query_heads=64),
            _gqa(12, 8, 64, query_heads=64, window=128),
        ),
        context_limit=131_072,
        routed_params=_routed(24, 32, 2880, 2880, biases=True),
        routed_experts=32,
        experts_per_token=4,
        native_expert_precision="mxfp4",
        sources=(
            "openai/gpt-oss README.md (21B parameters, 3.6B active); model card 20.9B",
            "openai/gpt-oss gpt_oss/torch/model.py (shared architecture); 24 layers from the "
            "model card arXiv 2508.10925 (32 experts, 4 per token, MXFP4 experts)",
        ),
        notes="OpenAI's active count leaves out the 0.58B input embedding, which the "
        "shared weights here include.",
    ),
    Model(
        name="gpt-3-175b",
        family="OpenAI",
        total_params=175e9,
        active_params=175e9,
        attention=(
            AttentionGroup(layers=96, kind="mha", kv_heads=96, head_dim=128, query_heads=96),
        ),
        context_limit=2048,
        sources=(
            "Brown et al. 2020, arXiv 2005.14165, Table 2.1 (96 layers, d_model 12288, 96 "
            "heads of 128, 2,048-token context)",
        ),
        notes="The paper alternates dense and banded sparse layers; caching every layer in full "
        "makes this b an upper bound. Kept as the plain multi-head example.",
    ),
)

_PRICE_NOTE = "rental prices are third-party quotes and move fast"

HARDWARE: tuple[Hardware, ...] = (
    Hardware(
        name="a100-sxm-80gb",
        vendor="NVIDIA",
        flops_per_s={"bf16": 312e12},
        hbm_bytes_per_s=2.039e12,
        hbm_bytes=80e9,
        usd_per_hour=1.99,
        price_date="early 2026",
        sources=(
            "NVIDIA A100 datasheet (312 TFLOP/s dense BF16, 2,039 GB/s, 80 GB), as tabulated "
            "at glennklockwood.com/garden/processors/A100",
            "price: midpoint of $1.49-$2.49 typical on-demand (pricegpu.pages.dev, early 2026); "
            + _PRICE_NOTE,
        ),
        notes="No FP8 tensor cores.",
    ),
    Hardware(
        name="a100-sxm-40gb",
        vendor="NVIDIA",
        flops_per_s={"bf16": 312e12},
        hbm_bytes_per_s=1.555e12,
        hbm_bytes=40e9,
        usd_per_hour=1.84,
        price_date="valid to 2025-01-01",
        scaleup_bytes_per_s=300e9,
        sources=(
            "NVIDIA A100 datasheet r4 (40 GB SXM: 312 TFLOP/s dense BF16, 1,555 GB/s, NVLink "
            "600 GB/s), as tabulated at glennklockwood.com/garden/processors/A100",
            "price: a single quote, AWS EC2 Capacity Block p4d.24xlarge (8 x A100 40GB) $14.75/h "
            "= $1.84 per GPU-hour (rates valid to 2025-01-01); " + _PRICE_NOTE,
        ),
        notes="No FP8 tensor cores. The GPU of the FasterTransformer measurements.",
    ),
    Hardware(
        name="h100-sxm",
        vendor="NVIDIA",
        flops_per_s={"bf16": 989.4e12, "fp8": 1978.9e12},
        hbm_bytes_per_s=3.35e12,
        hbm_bytes=80e9,
        scaleup_bytes_per_s=450e9,
        scaleout_bytes_per_s=50e9,
        usd_per_hour=3.24,
        price_date="early 2026",
        sources=(
            "NVLink 900 GB/s per GPU (450 GB/s each way); one 400 Gb/s InfiniBand NIC per GPU "
            "(50 GB/s each way): MLPerf Inference v4.1 NVIDIA system descriptions",
            "NVIDIA H100 datasheet (1,979 / 3,958 TFLOP/s BF16 / FP8 with sparsity, half "
            "without; 3.35 TB/s; 80 GB), copied at archive-lib.hpctech.co.jp",
            "price: midpoint of $2.49-$3.99 typical on-demand (pricegpu.pages.dev, early 2026); "
            + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="h100-pcie",
        vendor="NVIDIA",
        flops_per_s={"bf16": 756e12, "fp8": 1513e12},
        hbm_bytes_per_s=2.0e12,
        hbm_bytes=80e9,
        usd_per_hour=2.43,
        price_date="2026-05-07",
        sources=(
            "NVIDIA H100 datasheet table (PCIe column), copied at archive-lib.hpctech.co.jp; "
            "product brief PB-11133-001 (2 TB/s)",
            "price: midpoint of Civo $1.99/h (gpu.blog, undated) and Lambda 1xH100 PCIe "
            "$2.86/h (techbytes.app, 2026-05-07); " + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="h800",
        vendor="NVIDIA",
        flops_per_s={"bf16": 989.4e12, "fp8": 1978.9e12},
        hbm_bytes_per_s=3.35e12,
        hbm_bytes=80e9,
        usd_per_hour=2.00,
        price_date="2025-02",
        scaleup_bytes_per_s=200e9,
        scaleout_bytes_per_s=50e9,
        sources=(
            "DeepSeek, Insights into DeepSeek-V3 (ISCA 2025, arXiv 2505.09343) §4.1: Hopper like "
            "the H100 with FP64 and NVLink reduced, NVLink 400 GB/s (200 GB/s each way), one "
            "400 Gb/s InfiniBand CX7 NIC per GPU; compute and memory taken from the H100 SXM",
            "price: a single quote, DeepSeek's assumed lease of $2 per GPU-hour "
            "(open-infra-index, day 6, February 2025)",
        ),
        notes="DeepSeek's serving GPU. No NVIDIA datasheet was reachable: the FLOP/s, HBM and "
        "bandwidth are the H100 SXM's, as DeepSeek's paper describes it.",
    ),
    Hardware(
        name="h200",
        vendor="NVIDIA",
        flops_per_s={"bf16": 989.4e12, "fp8": 1978.9e12},
        hbm_bytes_per_s=4.8e12,
        hbm_bytes=141e9,
        scaleup_bytes_per_s=450e9,
        scaleout_bytes_per_s=50e9,
        usd_per_hour=3.83,
        price_date="2026-06",
        sources=(
            "NVLink 900 GB/s per GPU (450 GB/s each way); 400 Gb/s InfiniBand per GPU (50 GB/s "
            "each way; the system lists 10 NICs for 8 GPUs, 2 taken as storage): MLPerf "
            "Inference v4.1 H200 system description",
            "NVIDIA H200 product page (4.8 TB/s, 141 GB; H100 compute)",
            "price: midpoint of packet.ai H200 SXM on-demand $2.25/h (June 2026) and AWS "
            "Capacity Block p5e $5.41 per GPU-hour (rates valid to 2025-01-01); " + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="b200",
        vendor="NVIDIA",
        flops_per_s={"bf16": 2.25e15, "fp8": 4.5e15, "fp4": 9.0e15},
        hbm_bytes_per_s=8.0e12,
        hbm_bytes=180e9,
        scaleup_bytes_per_s=900e9,
        scaleout_bytes_per_s=50e9,
        usd_per_hour=4.68,
        price_date="2026-06",
        sources=(
            "NVLink 5: 1.8 TB/s per GPU (900 GB/s each way); ConnectX-7 400 Gb/s per GPU (50 "
            "GB/s each way): MLPerf Inference v6.0 Nebius B200 system description",
            "NVIDIA Blackwell technical brief, HGX B200 at 1,000 W (2.25 / 4.5 / 9 PFLOP/s "
            "dense BF16 / FP8 / FP4), as tabulated at glennklockwood.com/garden/processors/B200",
            "DGX B200 page: 64 TB/s for 8 GPUs = 8 TB/s each; 180 GB usable (MLCommons "
            "inference v6.0 Nebius system description)",
            "price: midpoint of packet.ai B200 SXM on-demand $3.75/h (lowest of 26 providers) "
            "and its bare-metal $5.60/h (June 2026); " + _PRICE_NOTE,
        ),
        notes="A third-party table (verda.com) gives 7.7 TB/s per GPU; NVIDIA's DGX B200 page "
        "gives 64 TB/s for eight.",
    ),
    Hardware(
        name="mi300x",
        vendor="AMD",
        flops_per_s={"bf16": 1307.4e12, "fp8": 2614.9e12},
        hbm_bytes_per_s=5.3e12,
        hbm_bytes=192e9,
        scaleup_bytes_per_s=448e9,
        scaleout_bytes_per_s=50e9,
        usd_per_hour=1.78,
        price_date="2026",
        sources=(
            "Infinity Fabric: 7 links of 128 GB/s (64 GB/s each way), 448 GB/s each way in all "
            "(AMD CDNA 3 white paper, Table 2); 400 Gb/s NDR per GPU on Azure ND MI300X v5",
            "AMD Instinct MI300X specifications (1,307.4 / 2,614.9 TFLOP/s dense BF16 / FP8, "
            "5.3 TB/s, 192 GB), as used in alpharomercoma/MI300X-vs-H200 METHODOLOGY.md",
            "price: midpoint of TensorWave $1.71/h and Vultr $1.85/h (gpu.blog, undated); "
            + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="mi325x",
        vendor="AMD",
        flops_per_s={"bf16": 1307.4e12, "fp8": 2614.9e12},
        hbm_bytes_per_s=6.0e12,
        hbm_bytes=256e9,
        usd_per_hour=2.13,
        price_date="2026",
        sources=(
            "AMD MI325X specifications (256 GB HBM3e, 6.0 TB/s; MI300X compute), as copied at "
            "awesomeagents.ai and the Vultr inference cookbook",
            "price: midpoint of $2.00-$2.25/h (awesomeagents.ai, undated); " + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="tpu-v5e",
        vendor="Google",
        flops_per_s={"bf16": 197e12},
        hbm_bytes_per_s=0.819e12,
        hbm_bytes=16e9,
        usd_per_hour=1.20,
        price_date="2026-01-27",
        sources=(
            "Google Cloud TPU v5e documentation (197 TFLOP/s BF16, 16 GB, 819 GB/s)",
            "price: $1.20 per chip-hour on demand (artificial-intelligence-wiki.com, updated "
            "2026-01-27; Google's on-demand list price); " + _PRICE_NOTE,
        ),
        notes="A newer revision of Google's page says 800 GiB/s (about 859 GB/s).",
    ),
    Hardware(
        name="tpu-v5p",
        vendor="Google",
        flops_per_s={"bf16": 459e12, "fp8": 459e12},
        hbm_bytes_per_s=2.765e12,
        hbm_bytes=95e9,
        usd_per_hour=4.20,
        price_date="2026-01-27",
        sources=(
            "Google Cloud TPU v5p documentation (459 TFLOP/s, 95 GB, 2,765 GB/s)",
            "price: $4.20 per chip-hour on demand (artificial-intelligence-wiki.com, updated "
            "2026-01-27; Google's on-demand list price); " + _PRICE_NOTE,
        ),
    ),
    Hardware(
        name="tpu-v6e",
        vendor="Google",
        flops_per_s={"bf16": 918e12},
        hbm_bytes_per_s=1.638e12,
        hbm_bytes=32e9,
        usd_per_hour=2.70,
        price_date="2024-12",
        sources=(
            "Google Cloud TPU v6e (Trillium) documentation (918 TFLOP/s BF16, 32 GB, 1,638 GB/s)",
            "price: Google's on-demand list price, 'starting at $2.7000 per chip-hour', quoted "
            "at the Trillium GA (neowin.net, December 2024)",
        ),
        notes="INT8 is its fast low-precision mode; no FP8.",
    ),
)

_MODELS = {m.name: m for m in MODELS}
_HARDWARE = {h.name: h for h in HARDWARE}


def _lookup(kind: str, name: str, table: dict):
    if not isinstance(name, str):
        raise ValueError(f"{kind} name must be a string; got {echo(name)}")
    key = name.strip().lower()
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key[:100], table, n=3, cutoff=0.3)
    hint = f"closest: {', '.join(close)}; " if close else ""
    raise ValueError(f"unknown {kind} {echo(name)} ({hint}known: {', '.join(sorted(table))})")


def model(name: str) -> Model:
    """The preset model called ``name`` (case-insensitive).

    >>> model("DeepSeek-V3").active_params
    37000000000.0
    """
    return _lookup("model", name, _MODELS)


def hardware(name: str) -> Hardware:
    """The preset accelerator called ``name`` (case-insensitive).

    >>> hardware("h100-sxm").hbm_bytes_per_s
    3350000000000.0
    """
    return _lookup("hardware", name, _HARDWARE)


def model_names() -> list[str]:
    """Names of the model presets, in table order."""
    return [m.name for m in MODELS]


def hardware_names() -> list[str]:
    """Names of the accelerator presets, in table order."""
    return [h.name for h in HARDWARE]
