"""What splitting a model across accelerators adds: collectives, all-to-all traffic, copies.

The roofline (:mod:`tokenmath.roofline`) treats a replica of ``gpus`` accelerators as one
big accelerator: ``gpus`` times the bandwidth and the arithmetic, each weight stored once.
Real layouts pay for the split in three ways, each computed here from the model's shape and
the accelerator's links (``Hardware.scaleup_bytes_per_s`` inside a node,
``Hardware.scaleout_bytes_per_s`` between nodes, per accelerator and per direction):

* **tensor parallelism** cuts every weight matrix across the replica, so each layer ends with
  an all-reduce of the activations (:func:`tensor_parallel_seconds`);
* **expert parallelism** puts whole experts on different accelerators, so every token is
  dispatched to the accelerators holding its experts and the results combined back
  (:func:`expert_parallel_seconds`);
* **data-parallel attention** (DeepSeek's serving layout, SGLang's "DP attention") keeps a
  full copy of the attention and other non-expert weights on every accelerator, so each one
  reads them every step (:func:`weight_bytes_per_gpu`).

Units: bytes, seconds, tokens. ``hidden_size`` and ``moe_layers`` come from the model
(:class:`~tokenmath.specs.Model`); a model that lacks them raises ``ValueError``. Array
arguments broadcast; a 0-d result comes back as a plain ``float``. The book uses these in the
chapter that holds the model against published measurements.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .specs import BYTES_PER_WEIGHT, Hardware, Model, check_hardware, check_model

__all__ = [
    "ACTIVATION_BYTES",
    "ALLREDUCES_PER_LAYER",
    "allreduce_seconds",
    "expert_parallel_bytes",
    "expert_parallel_seconds",
    "tensor_parallel_seconds",
    "weight_bytes_per_gpu",
]

#: Bytes per activation element sent between accelerators (BF16, 2 bytes).
ACTIVATION_BYTES = 2.0

#: All-reduces per layer in a tensor-parallel transformer (after attention and after the MLP).
ALLREDUCES_PER_LAYER = 2


def _hidden_size(model: Model) -> int:
    check_model(model)
    if model.hidden_size <= 0:
        raise ValueError(
            f"model.hidden_size must be > 0 to count the activations sent between "
            f"accelerators; {model.name} has none (set it with dataclasses.replace)"
        )
    return model.hidden_size


def allreduce_seconds(
    message_bytes: v.ArrayLike,
    gpus: int,
    link_bytes_per_s: float,
    latency_s: v.ArrayLike = 0.0,
) -> float | np.ndarray:
    """Seconds for ``gpus`` accelerators to all-reduce a message of ``message_bytes`` each.

    A ring all-reduce sends, and receives, ``2 (gpus - 1) / gpus`` times the message over
    each accelerator's link, so it takes that many bytes over ``link_bytes_per_s`` (per
    direction), plus a fixed ``latency_s`` per collective. One accelerator has nothing to
    reduce: 0.

    >>> allreduce_seconds(1e6, 4, 450e9) * 1e6      # microseconds: 1.5 MB at 450 GB/s
    3.3333333333333335
    >>> allreduce_seconds(1e6, 1, 450e9)
    0.0
    """
    n = v.gpu_count(gpus)
    size = v.non_negative("message_bytes", message_bytes)
    wait = v.non_negative("latency_s", latency_s)
    if n == 1:
        return v.scalar_or_array(np.zeros(np.broadcast_shapes(size.shape, wait.shape)))
    link = v.positive_scalar("link_bytes_per_s", link_bytes_per_s)
    size, wait = v.broadcast(message_bytes=size, latency_s=wait)
    with v.no_overflow("message_bytes"):
        seconds = 2.0 * (n - 1) / n * size / link + wait
    return v.scalar_or_array(seconds)


def tensor_parallel_seconds(
    model: Model,
    hw: Hardware,
    tokens: v.ArrayLike,
    gpus: int,
    *,
    latency_s: v.ArrayLike = 0.0,
) -> float | np.ndarray:
    """Seconds one forward pass over ``tokens`` tokens spends in tensor-parallel all-reduces.

    Each layer all-reduces its output twice (after attention and after the MLP): a message of
    ``tokens x hidden_size x 2`` bytes (BF16 activations), over the scale-up link
    (:func:`allreduce_seconds`), each with ``latency_s``. A decode step of ``B`` sequences
    passes ``B`` tokens; a prefill pass, every prompt token. The all-reduces sit between the
    layers' matrix multiplies, so they add to the step time rather than overlap it.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("llama-3.1-70b"), hardware("h100-sxm")
    >>> round(tensor_parallel_seconds(m, hw, 1, 4) * 1e6, 2)       # us: bytes alone, 1 token
    8.74
    >>> round(tensor_parallel_seconds(m, hw, 2035, 4) * 1e3, 2)    # ms: a 2,035-token prompt
    17.78
    """
    hidden = _hidden_size(model)
    check_hardware(hw)
    n = v.gpu_count(gpus)
    count = v.non_negative("tokens", tokens)
    if n > 1 and hw.scaleup_bytes_per_s <= 0:
        raise ValueError(f"hw.scaleup_bytes_per_s must be > 0 for {n} GPUs; {hw.name} has none")
    collectives = ALLREDUCES_PER_LAYER * model.layers
    with v.no_overflow("tokens"):
        message = count * hidden * ACTIVATION_BYTES
    one = allreduce_seconds(message, n, hw.scaleup_bytes_per_s or 1.0, latency_s)
    return v.scalar_or_array(collectives * np.asarray(one))


def expert_parallel_bytes(
    model: Model,
    tokens_per_gpu: v.ArrayLike,
    *,
    dispatch_bytes: float = 1.0,
    combine_bytes: float = ACTIVATION_BYTES,
) -> float | np.ndarray:
    """Bytes each accelerator sends (and receives) per pass under expert parallelism.

    In each of the model's ``moe_layers`` every token goes to its ``k`` experts and comes
    back: a dispatch of ``hidden_size`` elements at ``dispatch_bytes`` each (DeepSeek sends
    FP8, 1 byte) and a combine at ``combine_bytes`` (BF16, 2). With balanced experts an
    accelerator receives as many token copies as it sends, so per direction::

        tokens_per_gpu x k x hidden_size x (dispatch_bytes + combine_bytes) x moe_layers

    Every copy is counted, including those whose expert sits on the sending accelerator or
    its node (:func:`expert_parallel_seconds` splits them by link); kernels that send one
    copy per remote node and fan out inside it move fewer bytes between nodes.

    >>> from tokenmath import model
    >>> round(expert_parallel_bytes(model("deepseek-v3"), 1) / 1e6, 2)   # MB per token
    9.98
    """
    hidden = _hidden_size(model)
    if model.routed_experts == 0 or model.moe_layers <= 0:
        raise ValueError(
            f"model must have routed experts and moe_layers > 0 for expert parallelism; "
            f"{model.name} has {model.routed_experts} experts in {model.moe_layers} layers"
        )
    count = v.non_negative("tokens_per_gpu", tokens_per_gpu)
    per_copy = v.non_negative_scalar("dispatch_bytes", dispatch_bytes) + v.non_negative_scalar(
        "combine_bytes", combine_bytes
    )
    with v.no_overflow("tokens_per_gpu"):
        sent = count * model.experts_per_token * hidden * per_copy * model.moe_layers
    return v.scalar_or_array(sent)


def expert_parallel_seconds(
    model: Model,
    hw: Hardware,
    tokens_per_gpu: v.ArrayLike,
    gpus: int,
    gpus_per_node: int,
    *,
    dispatch_bytes: float = 1.0,
    combine_bytes: float = ACTIVATION_BYTES,
    forward_in_node: bool = False,
) -> float | np.ndarray:
    """Seconds of all-to-all traffic per pass for ``tokens_per_gpu`` tokens on each of ``gpus``
    accelerators holding the experts, ``gpus_per_node`` of them to a node.

    With experts spread evenly and tokens routed uniformly, a token copy goes to any of the
    ``gpus`` accelerators alike. Sent directly (``forward_in_node=False``, as DeepSeek's
    low-latency decode kernels do), ``1/gpus`` of :func:`expert_parallel_bytes` stays put,
    ``(gpus_per_node - 1)/gpus`` crosses the scale-up link (NVLink) and ``(gpus -
    gpus_per_node)/gpus`` the scale-out network (InfiniBand). With ``forward_in_node`` (the
    kernels DeepSeek trains and prefills with) a token crosses the network once per remote
    node that holds any of its ``k`` experts, ``(nodes - 1)(1 - (1 - 1/nodes)^k)`` times on
    average instead of ``k (nodes - 1)/nodes``, and NVLink carries each copy to its GPU
    inside the node (``k (gpus_per_node - 1)/gpus_per_node`` copies). The two links run at
    once, so the traffic takes the longer of the two transfers. Latency is left out.

    >>> from tokenmath import model, hardware
    >>> m, hw = model("deepseek-v3"), hardware("h800")
    >>> round(expert_parallel_seconds(m, hw, 128, 144, 8) * 1e3, 1)   # ms per decode step
    24.1
    """
    check_hardware(hw)
    n = v.gpu_count(gpus)
    per_node = v.gpu_count(gpus_per_node, "gpus_per_node")
    if per_node > n or n % per_node:
        raise ValueError(f"gpus_per_node must divide gpus ({n}); got {per_node}")
    if not isinstance(forward_in_node, bool):
        raise ValueError(f"forward_in_node must be True or False; got {v.echo(forward_in_node)}")
    sent = np.asarray(
        expert_parallel_bytes(
            model, tokens_per_gpu, dispatch_bytes=dispatch_bytes, combine_bytes=combine_bytes
        )
    )
    k, nodes = model.experts_per_token, n // per_node
    if forward_in_node:  # shares of the k copies' bytes on each link
        outside = (nodes - 1) * (1.0 - (1.0 - 1.0 / nodes) ** k) / k
        inside = (per_node - 1) / per_node
    else:
        inside, outside = (per_node - 1) / n, (n - per_node) / n
    links = {"scaleup_bytes_per_s": inside, "scaleout_bytes_per_s": outside}
    for name, share in links.items():
        if share > 0 and getattr(hw, name) <= 0:
            raise ValueError(f"hw.{name} must be > 0 for this layout; {hw.name} has none")
    with v.no_overflow("tokens_per_gpu"):
        t_up = sent * inside / hw.scaleup_bytes_per_s if inside > 0 else np.zeros_like(sent)
        t_out = sent * outside / hw.scaleout_bytes_per_s if outside > 0 else np.zeros_like(sent)
    return v.scalar_or_array(np.maximum(t_up, t_out))


def weight_bytes_per_gpu(
    model: Model,
    precision: str = "bf16",
    gpus: int = 1,
    *,
    redundant_experts: int = 0,
    replicate_shared: bool = True,
) -> float:
    """Weight bytes each accelerator holds, and reads every step, in an expert-parallel layout.

    The routed experts, plus ``redundant_experts`` extra copies per layer (for load
    balance), are spread over the ``gpus``; with ``replicate_shared`` (data-parallel
    attention) every accelerator also holds a whole copy of everything else
    (:attr:`~tokenmath.specs.Model.shared_params`: attention, shared experts, dense layers,
    embeddings). Without it the shared weights are split too, which is the roofline's
    ``weight_bytes / gpus``. A dense model has no experts: its weights are all shared.

    >>> from tokenmath import model
    >>> m = model("deepseek-v3")
    >>> round(weight_bytes_per_gpu(m, "native", 144, redundant_experts=32) / 1e9, 2)   # GB
    22.2
    >>> round(m.weight_bytes("native") / 144 / 1e9, 2)                                  # GB
    4.66
    """
    check_model(model)
    n = v.gpu_count(gpus)
    extra = v.non_negative_scalar("redundant_experts", redundant_experts)
    if not isinstance(replicate_shared, bool):
        raise ValueError(f"replicate_shared must be True or False; got {v.echo(replicate_shared)}")
    shared_fmt, routed_fmt = model.weight_formats(precision)
    shared = model.shared_params * BYTES_PER_WEIGHT[shared_fmt]
    routed = model.routed_params * BYTES_PER_WEIGHT[routed_fmt]
    if model.routed_experts:
        routed *= (model.routed_experts + extra) / model.routed_experts
    elif extra:
        raise ValueError(f"redundant_experts must be 0 for a dense model; got {extra:g}")
    return float((shared if replicate_shared else shared / n) + routed / n)
