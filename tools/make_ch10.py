"""Write chapters/10_prefill.ipynb from the cells below (run once; the notebook is the source).

Kept out of the repository once the notebook exists: it only saves typing JSON by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat import v4

CELLS: list[tuple[str, str, dict]] = []


def md(text: str, **meta) -> None:
    CELLS.append(("markdown", text.strip("\n"), meta))


def code(text: str, **meta) -> None:
    CELLS.append(("code", text.strip("\n"), meta))


def figure(name: str, caption: str, alt: str) -> dict:
    return {"mystnb": {"figure": {"caption": caption, "name": name}, "image": {"alt": alt}}}


SOLUTION = {"tags": ["solution"], "jupyter": {"source_hidden": True}}
HIDDEN = {"tags": ["remove-cell"]}

# ---------------------------------------------------------------------------------------------
md(r"""
(ch-prefill)=
# Prefill and the price of input tokens

Every chapter so far priced the tokens a model *writes*. Real price lists quote at least two
numbers: one for the tokens a customer sends (the prompt) and one for the tokens the model
sends back, and the second is usually several times the first. Many lists add a third, cheaper price for
input tokens that hit a prompt cache. Before the first output token appears, the model must
read the whole prompt in a **prefill** pass; this chapter asks what that pass costs, how long
the user waits for it, and whether the published ratios between the prices follow from the
same two numbers of an accelerator, its bandwidth and its arithmetic.
""")

code(r"""
import math

import numpy as np
import sympy as sp
import tokenmath as tm
from IPython.display import Markdown, display
from myst_nb import glue
from tokenmath import prefill, serving

h100, h800 = tm.hardware("h100-sxm"), tm.hardware("h800")
ds, llama70, llama8, gptoss = (
    tm.model(name) for name in ("deepseek-v3", "llama-3.1-70b", "llama-3.1-8b", "gpt-oss-120b")
)
FIRST, REFINED = tm.FIRST_ORDER, tm.REFINED
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-roofline)=
## A prefill pass is a roofline too

A serving engine runs the prompt through the model in one pass (or a few, see
{ref}`sec-prefill-chunked`): every prompt token goes through every layer at once, and each
layer writes that token's keys and values to the KV cache for the decode steps that follow.
Take a pass over $B$ prompts of $P$ tokens each, of which the first $c$ are already cached
from an earlier request (a prompt-cache hit) and are not recomputed. In the notation of
{doc}`chapter 2 <02_decode_step>`, the pass moves three kinds of bytes and does two kinds of
arithmetic:

- the weights, read **once** for the whole pass: $w\,N_\text{total}$ bytes;
- each prompt's cache, $P\,b$ bytes: the $P - c$ new tokens' entries written, the $c$ cached
  ones read back;
- $f\,N_\text{active}$ FLOPs for each of the $B\,(P - c)$ new tokens;
- and, when we count it, the attention arithmetic: the token at position $i$ attends to the
  $i$ tokens up to and including itself, at $a$ FLOPs per attended token summed over layers.

The attention sum over the new positions has a closed form, which we let sympy find:
""")

code(r"""
w, f, N_total, N_active, b, BW, C, a = sp.symbols(
    r"w f N_\text{total} N_\text{active} b \mathrm{BW} C a", positive=True
)
B, P = sp.symbols("B P", positive=True)
c = sp.Symbol("c", nonnegative=True)
i = sp.Symbol("i", integer=True, positive=True)

attended = (P - c) * (P + c + 1) / 2
assert sp.simplify(sp.summation(i, (i, c + 1, P)) - attended) == 0
sp.Eq(sp.Symbol(r"\sum_{i=c+1}^{P} i"), attended)
""")

md(r"""
For a prompt with nothing cached that is $P(P+1)/2$ attended pairs, the square of the prompt
length. Dividing bytes by bandwidth and FLOPs by peak gives the two branches of the pass:
""")

code(r"""
T_memory = (w * N_total + B * P * b) / BW
T_compute = B * ((P - c) * f * N_active + a * attended) / C
display(sp.Eq(sp.Symbol(r"T_\text{memory}"), T_memory))
display(sp.Eq(sp.Symbol(r"T_\text{compute}"), T_compute))
""")

md(r"""
This is the decode step of {doc}`chapter 2 <02_decode_step>` with one change that matters
more than any other: a decode step gets **one** token per sequence out of its weight read,
while a prefill pass gets **every** token of every prompt. The first-order model sets $a = 0$
(the seed leaves attention arithmetic out); `tm.REFINED` counts it. The library's
`tm.prefill_terms` computes both branches; we check it against the formulas for
Llama-3.1-8B (one attention layout, no windows) on an H100, with and without a cached prefix:
""")

code(r"""
def llama8_values(assume):
    (group,) = llama8.attention
    per_token = group.layers * group.attention_flops_per_token_per_layer
    return {
        w: tm.BYTES_PER_WEIGHT["bf16"],
        f: tm.FLOPS_PER_ACTIVE_PARAM,
        N_total: llama8.total_params,
        N_active: llama8.active_params,
        b: tm.kv_bytes_per_token(llama8),
        BW: h100.hbm_bytes_per_s,
        C: h100.flops("bf16"),
        a: per_token if assume.attention_flops else 0,
    }


for assume in (FIRST, REFINED):
    for prompts, prompt, cached in ((1, 2048, 0), (4, 8192, 6000)):
        at = {**llama8_values(assume), B: prompts, P: prompt, c: cached}
        t_mem, t_comp = tm.prefill_terms(
            llama8, h100, prompt, prompts, cached_tokens=cached, assume=assume
        )
        assert math.isclose(t_mem, float(T_memory.subs(at)), rel_tol=1e-12)
        assert math.isclose(t_comp, float(T_compute.subs(at)), rel_tol=1e-12)
t_mem, t_comp = tm.prefill_terms(llama8, h100, 2048)
glue("ch10_l8_mem_ms", t_mem * 1e3, display=False)
glue("ch10_l8_comp_ms", t_comp * 1e3, display=False)
glue("ch10_l8_ratio", t_comp / t_mem, display=False)
{"T_memory (ms)": round(t_mem * 1e3, 3), "T_compute (ms)": round(t_comp * 1e3, 3)}
""")

md(r"""
The asserts pass. For one 2,048-token prompt on Llama-3.1-8B the pass reads its weights in
{glue:text}`ch10_l8_mem_ms:.2f` ms but computes for {glue:text}`ch10_l8_comp_ms:.1f` ms,
{glue:text}`ch10_l8_ratio:.1f` times longer: a prompt of that length is compute-bound on
its own, which no single decoding sequence ever is.
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-crossover)=
## Where prefill turns compute-bound

Take one prompt of $N$ tokens, nothing cached, and leave the attention arithmetic out. The
pass is memory-bound while the weight read outlasts the arithmetic, and turns compute-bound
at the $N$ where the two branches meet:
""")

code(r"""
N = sp.Symbol("N", positive=True)
one_prompt = {B: 1, P: N, c: 0, a: 0}
crossover = sp.solve(sp.Eq(T_memory.subs(one_prompt), T_compute.subs(one_prompt)), N)[0]
assert sp.simplify(crossover - (w * N_total / BW) / (f * N_active / C - b / BW)) == 0

sweet_spot_0 = C / BW * (w * N_total) / (f * N_active)  # chapter 4, at context 0
assert sp.simplify(sp.limit(crossover, b, 0) - sweet_spot_0) == 0
sp.Eq(sp.Symbol("N^*"), crossover)
""")

md(r"""
Without the cache term the crossover is $\frac{C}{\mathrm{BW}} \cdot
\frac{w\,N_\text{total}}{f\,N_\text{active}}$: the **same number as the decode sweet spot at
zero context**, the seed's "$C/\mathrm{BW}$ times the inverse sparsity" (at BF16, where
$w = f = 2$). That is no coincidence. A decode step of $B$ sequences and a prefill pass of
$B$ tokens both read the weights once and multiply $B$ tokens by them; the decode batch has to
be assembled from $B$ users, while a prefill pass gets its tokens from a single prompt. The
cache term changes little, because writing a token's cache entry ($b$ bytes) takes far less
time than its arithmetic. The library solves the same equation (by bisection, so that it
also works with expected expert reads and attention arithmetic); we compare it with the
formula and with the sweet spot for a few presets on an H100:
""")

code(r"""
def h100_values(m, precision="bf16"):
    return {
        w: tm.BYTES_PER_WEIGHT[precision],
        f: tm.FLOPS_PER_ACTIVE_PARAM,
        N_total: m.total_params,
        N_active: m.active_params,
        b: tm.kv_bytes_per_token(m),
        BW: h100.hbm_bytes_per_s,
        C: h100.flops(precision),
    }


rows = [
    "| model | crossover, first-order | decode sweet spot at context 0 | crossover, refined |",
    "|---|---:|---:|---:|",
]
crossovers = {}
for m in (ds, tm.model("kimi-k2"), tm.model("qwen3-235b-a22b"), gptoss, llama70, llama8):
    first = tm.prefill_crossover_tokens(m, h100)
    if all(g.window is None for g in m.attention):  # the formula has one b, no windows
        assert math.isclose(first, float(crossover.subs(h100_values(m))), rel_tol=1e-9)
    refined = tm.prefill_crossover_tokens(m, h100, assume=REFINED)
    spot = tm.sweet_spot(m, h100)
    crossovers[m.name] = first
    rows.append(f"| {m.name} | {first:,.0f} | {spot:,.0f} | {refined:,.0f} |")
glue("ch10_cross_ds", crossovers["deepseek-v3"], display=False)
glue("ch10_cross_l70", crossovers["llama-3.1-70b"], display=False)
glue("ch10_cross_l8", crossovers["llama-3.1-8b"], display=False)
glue("ch10_cross_ds_refined", tm.prefill_crossover_tokens(ds, h100, assume=REFINED),
     display=False)
Markdown("\n".join(rows))
""")

md(r"""
A dense 70B model turns compute-bound past about {glue:text}`ch10_cross_l70:,.0f` prompt
tokens, so almost every real prompt saturates the tensor cores. DeepSeek-V3 needs about
{glue:text}`ch10_cross_ds:,.0f` tokens in a pass: its weights are eighteen times its active
parameters, so a pass needs that many more tokens to hide the weight read. A serving engine
therefore packs several prompts into one pass; the crossover counts tokens in the pass however
they split into prompts (up to the small cache and attention terms). The refined column is
lower: attention arithmetic adds work per token, and with expected expert reads a pass of a
few hundred tokens does not yet touch every expert. For DeepSeek-V3 it comes down to
{glue:text}`ch10_cross_ds_refined:,.0f` tokens.

:::{admonition} Takeaway
:class: tip
A prefill pass is memory-bound only until it holds about $C/\mathrm{BW}$ times the inverse
sparsity tokens, the decode sweet spot at zero context. Past that, the weight read is hidden
and an input token costs its arithmetic, the compute floor.
:::
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-ratio)=
## Why an input token costs a fraction of an output token

Above the crossover, a pass spends $f\,N_\text{active}/C$ GPU-seconds on each input token (plus
its attention arithmetic): the compute floor of {doc}`chapter 3 <03_latency_to_cost>`. An
output token costs what chapter 3 found, and below the sweet spot that is the memory branch:
the weight read shared by the decode batch $B_d$, plus one read of the cache of $L$ tokens.
Their ratio is what an output token costs in input tokens:
""")

code(r"""
B_d, L = sp.symbols("B_d L", positive=True)
input_cost = f * N_active / C  # a compute-bound pass, first-order
output_cost = w * N_total / (B_d * BW) + L * b / BW  # a memory-bound decode step
ratio = sp.simplify(output_cost / input_cost)

L_crit = f * N_active * BW / (b * C)  # chapter 4: where the KV line meets the compute line
assert sp.simplify(ratio - (sweet_spot_0 / B_d + L / L_crit)) == 0
sp.Eq(sp.Symbol(r"\frac{\text{output}}{\text{input}}"), sweet_spot_0 / B_d + L / L_crit)
""")

md(r"""
$$
\frac{\text{cost of an output token}}{\text{cost of an input token}}
= \underbrace{\frac{B^*_0}{B_d}}_{\text{weights not yet shared}}
+ \underbrace{\frac{L}{L_\text{crit}}}_{\text{the cache read}}
$$

Two terms, each a quantity the book has met: how far the decode batch falls short of the
sweet spot at zero context, $B^*_0$, and how long the context is in units of the critical
context $L_\text{crit}$ of {doc}`chapter 4 <04_cost_chart>`, where reading a sequence's cache
takes as long as its arithmetic. An input token pays neither: its pass shares the weights
among thousands of tokens, and writing its cache entry costs little next to its arithmetic.

What sets $B_d$? A provider packs as many sequences into a replica as its memory holds, up to
the sweet spot. Past the sweet spot nothing is gained; before it, the caches fill the memory
left after the weights, $g H - w N_\text{total}$ on $g$ accelerators of $H$ bytes each. With
that batch the ratio takes a form that no longer mentions the batch:
""")

code(r"""
g, H = sp.symbols("g H", positive=True)
memory_full = sp.simplify(ratio.subs(B_d, (g * H - w * N_total) / (L * b)))
assert sp.simplify(memory_full - L / L_crit * g * H / (g * H - w * N_total)) == 0
sp.Eq(sp.Symbol(r"\frac{\text{output}}{\text{input}}\Big|_\text{memory full}"),
      L / L_crit * g * H / (g * H - w * N_total))
""")

md(r"""
The context in critical contexts, times the replica's memory over the memory left for
caches. Long conversations make output dear; so does a replica whose weights take most of
its memory. We check the general ratio against `prefill.token_prices`, which prices an input
token of a compute-bound pass and an output token of a memory-bound decode step:
""")

code(r"""
ds_values = h100_values(ds)
assert math.isclose(tm.critical_context(ds, h100), float(L_crit.subs(ds_values)), rel_tol=1e-9)
for decode_batch, context in ((256, 1000), (1000, 2500)):
    prices = prefill.token_prices(ds, h100, 2000, decode_batch, context, prefill_batch=16)
    assert tm.region(ds, h100, decode_batch, context) == "memory-bound"
    by_formula = float(ratio.subs({**ds_values, B_d: decode_batch, L: context}))
    assert math.isclose(prices.ratio, by_formula, rel_tol=1e-9)
""")

md(r"""
Now the three presets. We price them at one operating point, stated in full:

- **input**: prompts of {glue:text}`ch10_prompt:,d` tokens, prefilled
  {glue:text}`ch10_per_pass:d` to a pass (past every crossover above);
- **output**: decoded at a context of $L$ tokens, with the largest batch whose caches fit in
  the replica's memory, or the sweet spot if that comes first. We take $L$ =
  {glue:text}`ch10_prompt:,d` and $L$ = {glue:text}`ch10_ds_context:,.0f`, the average cache
  length per output token that DeepSeek published for a day of production
  {cite}`deepseek-inference-overview`;
- **replicas**: DeepSeek-V3 on the decode unit DeepSeek describes, 18 nodes of 8 H800s
  {cite}`deepseek-inference-overview`, with the released FP8 weights; Llama-3.1-70B in BF16
  on 4 H100s, the layout of the vLLM measurements {cite}`tokenomics-first-principles`;
  gpt-oss-120b on a single H100 with its released MXFP4 experts {cite}`gpt-oss-model-card`.
""")

code(r"""
PROMPT, PER_PASS = 2_000, 16  # tokens per prompt; prompts per prefill pass
DS_CONTEXT = tm.measured.measurement("deepseek-production", "kv_length_per_output_token").value
CONTEXTS = (PROMPT, DS_CONTEXT)
PRESETS = {  # label: (model, accelerator, precision, GPUs per replica)
    "DeepSeek-V3, 144 x H800, FP8": (ds, h800, "native", 144),
    "Llama-3.1-70B, 4 x H100, BF16": (llama70, h100, "bf16", 4),
    "gpt-oss-120b, 1 x H100, MXFP4": (gptoss, h100, "native", 1),
}


def decode_batch_at(m, hw, precision, gpus, context):
    # the largest batch that fits, never past the sweet spot
    fits = tm.max_batch(m, hw, context, gpus, precision)
    return min(fits, tm.sweet_spot(m, hw, context, precision))


operating = {}
for label, (m, hw, precision, gpus) in PRESETS.items():
    for context in CONTEXTS:
        batch = decode_batch_at(m, hw, precision, gpus, context)
        for name, assume in (("first-order", FIRST), ("refined", REFINED)):
            operating[label, context, name] = prefill.token_prices(
                m, hw, PROMPT, batch, context, precision, gpus, prefill_batch=PER_PASS,
                assume=assume,
            )
        operating[label, context, "batch"] = batch

rows = [
    "| replica | context L | decode batch | output / input, first-order | refined |",
    "|---|---:|---:|---:|---:|",
]
for label in PRESETS:
    for context in CONTEXTS:
        rows.append(
            f"| {label} | {context:,.0f} | {operating[label, context, 'batch']:,.0f} "
            f"| {operating[label, context, 'first-order'].ratio:.1f} "
            f"| {operating[label, context, 'refined'].ratio:.1f} |"
        )

# the memory-full formula, for DeepSeek's replica (floor() of the batch aside)
m, hw, precision, gpus = PRESETS["DeepSeek-V3, 144 x H800, FP8"]
mode = tm.compute_precision(m, hw, precision)
full_values = {
    w: m.weight_bytes(precision) / m.total_params, f: tm.FLOPS_PER_ACTIVE_PARAM,
    N_total: m.total_params, N_active: m.active_params, b: tm.kv_bytes_per_token(m),
    BW: hw.hbm_bytes_per_s, C: hw.flops(mode), g: gpus, H: hw.hbm_bytes, L: DS_CONTEXT,
}
by_formula = float(memory_full.subs(full_values))
from_library = operating["DeepSeek-V3, 144 x H800, FP8", DS_CONTEXT, "first-order"].ratio
assert math.isclose(from_library, by_formula, rel_tol=1e-3)

glue("ch10_prompt", PROMPT, display=False)
glue("ch10_per_pass", PER_PASS, display=False)
glue("ch10_ds_context", DS_CONTEXT, display=False)
for key, short in (
    ("DeepSeek-V3, 144 x H800, FP8", "ds"),
    ("Llama-3.1-70B, 4 x H100, BF16", "l70"),
    ("gpt-oss-120b, 1 x H100, MXFP4", "oss"),
):
    for context, tag in ((PROMPT, "short"), (DS_CONTEXT, "long")):
        for name in ("first-order", "refined"):
            glue(f"ch10_ratio_{short}_{tag}_{name[:5]}", operating[key, context, name].ratio,
                 display=False)
Markdown("\n".join(rows))
""")

md(r"""
At the shorter context an output token costs as much as
{glue:text}`ch10_ratio_ds_short_first:.1f`, {glue:text}`ch10_ratio_l70_short_first:.1f` and
{glue:text}`ch10_ratio_oss_short_first:.1f` input tokens on the three replicas (first-order). At DeepSeek's
published context the ratios grow to {glue:text}`ch10_ratio_ds_long_first:.1f`,
{glue:text}`ch10_ratio_l70_long_first:.1f` and {glue:text}`ch10_ratio_oss_long_first:.1f`,
roughly in proportion to the context, as the formula says. The spread between replicas is the
memory factor: 144 H800s hold DeepSeek-V3's weights in a small share of their memory, while a
single H100 holding gpt-oss-120b has little room left for caches, so its decode batch stays
small and each output token carries more of the weight read.

:::{admonition} Takeaway
:class: tip
An input token costs the compute floor; an output token costs the weight read shared by the
decode batch plus a read of its whole cache. Their ratio is $B^*_0/B_d + L/L_\text{crit}$:
a few at short contexts on a large replica, tens when the context is long or the weights
crowd out the caches.
:::
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-ttft)=
## Time to first token

A user waits for the whole prefill before the first output token appears: the pass that
reads the prompt also produces, from its last position, the first token of the answer. On an
idle replica the wait is `tm.prefill_time` of that one prompt. {numref}`fig-ch10-ttft` draws
it against the prompt length for the three models, each on a replica sized for prefill
(DeepSeek's prefill unit is 4 nodes, 32 H800s {cite}`deepseek-inference-overview`), with the
refined assumptions so that the attention arithmetic shows.
""")

code(r"""
prefill_cases = [
    tm.plots.PrefillCase("DeepSeek-V3, 32 x H800, FP8", ds, h800, "native", 32),
    tm.plots.PrefillCase("Llama-3.1-70B, 4 x H100, BF16", llama70, h100, "bf16", 4),
    tm.plots.PrefillCase("gpt-oss-120b, 1 x H100, MXFP4", gptoss, h100, "native", 1),
]
tm.plots.ttft_chart(prefill_cases, assume=REFINED)
""", **figure(
    "fig-ch10-ttft",
    "Time to first token against prompt length for one prompt on an idle replica, refined "
    "assumptions: DeepSeek-V3 on 32 H800s (FP8), Llama-3.1-70B on 4 H100s (BF16) and "
    "gpt-oss-120b on one H100 (MXFP4 experts). A point marks where each pass turns "
    "compute-bound.",
    "A log-log chart of time to first token in milliseconds against prompt length in tokens. "
    "Each of three curves is flat at short prompts, where reading the weights sets the time, "
    "then rises in a straight line once the pass is compute-bound, and bends upward at the "
    "longest prompts, where attention arithmetic grows with the square of the prompt.",
))

code(r"""
ttft = {
    case.label: serving.time_to_first_token(
        case.model, case.hw, np.array([PROMPT, 32_768, case.model.context_limit]),
        case.precision, case.gpus, assume=REFINED,
    )
    for case in prefill_cases
}
ds_case = prefill_cases[0]
no_attention = tm.Assumptions(expert_reads="expected")
ds_long_plain = tm.prefill_time(ds, h800, ds.context_limit, 1, "native", 32, assume=no_attention)
glue("ch10_ttft_ds_short_ms", float(ttft[ds_case.label][0]) * 1e3, display=False)
glue("ch10_ttft_ds_long_s", float(ttft[ds_case.label][2]), display=False)
glue("ch10_ttft_ds_long_plain_s", ds_long_plain, display=False)
glue("ch10_ds_limit", ds.context_limit, display=False)
glue("ch10_ttft_l70_short_ms", float(ttft[prefill_cases[1].label][0]) * 1e3, display=False)
{label: [f"{t:.3g} s" for t in times] for label, times in ttft.items()}
""")

md(r"""
For a {glue:text}`ch10_prompt:,d`-token prompt the wait is short:
{glue:text}`ch10_ttft_ds_short_ms:.1f` ms for DeepSeek-V3 on its prefill unit and
{glue:text}`ch10_ttft_l70_short_ms:.0f` ms for Llama-3.1-70B on four H100s. It grows
linearly once the pass is compute-bound, and then faster: a prompt of
{glue:text}`ch10_ds_limit:,d` tokens takes DeepSeek-V3 {glue:text}`ch10_ttft_ds_long_s:.1f` s,
where the same pass without the attention arithmetic would take
{glue:text}`ch10_ttft_ds_long_plain_s:.2f` s. At long prompts the square of the prompt, not
the weights, sets the time to first token.

A busy replica adds a wait that the roofline does not model: the request queues behind the
step in flight and behind prompts that arrived first. `serving.time_to_first_token` takes
that wait as an input, `queue_s`, and names it rather than guessing it. A request that arrives
at a random moment while steps of $T$ seconds run waits $T/2$ on average for the current one
to end.
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-chunked)=
## Chunked prefill: prompt tokens ride on decode steps

A replica that stops decoding to prefill a long prompt makes every decoding user wait for the
whole pass. A serving engine can instead cut the prompt into chunks (chunked prefill) and run
each chunk in the same step as the ongoing decode batch. The step then reads the weights once for both, reads
the decode batch's caches and the chunk's prefix, writes the chunk's cache, and does both
computes (`prefill.mixed_step_time`). Below the sweet spot a decode step is memory-bound, so
its tensor cores sit partly idle; a chunk can use that idle arithmetic and add nothing to the
step. Setting the step's compute, $(B_d + K)\,f N_\text{active}/C$, equal to its memory time
$T_\text{memory}$ gives the largest such chunk:
""")

code(r"""
K, T_mem_step = sp.symbols(r"K T_\text{memory}", positive=True)
free_chunk = sp.solve(sp.Eq((B_d + K) * f * N_active / C, T_mem_step), K)[0]
assert sp.simplify(free_chunk - (T_mem_step * C / (f * N_active) - B_d)) == 0

DECODE_B, DECODE_L, GPUS_70 = 64, 2_000, 4
decode_mem, _ = tm.step_time_terms(llama70, h100, DECODE_B, DECODE_L, gpus=GPUS_70)
k_free = float(free_chunk.subs({
    T_mem_step: decode_mem * GPUS_70, C: h100.flops("bf16"), f: tm.FLOPS_PER_ACTIVE_PARAM,
    N_active: llama70.active_params, B_d: DECODE_B,
}))
decode_step = tm.step_time(llama70, h100, DECODE_B, DECODE_L, gpus=GPUS_70)
rows = [
    "| chunk (tokens) | step (ms) | longer by | GPU-µs per prompt token of the chunk |",
    "|---:|---:|---:|---:|",
]
for chunk in (64, round(k_free), 512, 2048):
    step = prefill.mixed_step_time(
        llama70, h100, chunk, DECODE_B, DECODE_L, gpus=GPUS_70, chunk_cached_tokens=PROMPT
    )
    marginal = (step - decode_step) * GPUS_70 / chunk
    rows.append(f"| {chunk:,} | {step * 1e3:.2f} | {step / decode_step - 1:.1%} "
                f"| {marginal * 1e6:.1f} |")
at_free = prefill.mixed_step_time(
    llama70, h100, k_free, DECODE_B, DECODE_L, gpus=GPUS_70, chunk_cached_tokens=PROMPT
)
assert at_free / decode_step - 1 < 0.01  # only the chunk's own cache write is added
floor_us = tm.cost_floor(llama70, h100) * 1e6
glue("ch10_free_chunk", k_free, display=False)
glue("ch10_decode_step_ms", decode_step * 1e3, display=False)
glue("ch10_l70_floor_us", floor_us, display=False)
glue("ch10_decode_b", DECODE_B, display=False)
glue("ch10_decode_l", DECODE_L, display=False)
Markdown("\n".join(rows))
""")

md(r"""
Llama-3.1-70B on four H100s, decoding {glue:text}`ch10_decode_b:d` sequences at a context of
{glue:text}`ch10_decode_l:,d` tokens, takes {glue:text}`ch10_decode_step_ms:.1f` ms a step.
A chunk of up to {glue:text}`ch10_free_chunk:,.0f` prompt tokens rides on that step almost
free: the GPU time its tokens add is only their cache write. Past that size the step turns
compute-bound and every further prompt token costs the compute floor,
{glue:text}`ch10_l70_floor_us:.0f` GPU-µs, while the decoding users wait longer for each
token. Chunking never brings the first token sooner (each chunk's step reads the weights
again; a property test checks this for random models and accelerators), but it keeps the
decoding users' steps short, and a chunk sized to the idle arithmetic prefills for free.
""")

code(r"""
arrival_wait = decode_step / 2  # a random arrival, halfway through the step in flight
alone = serving.time_to_first_token(llama70, h100, PROMPT, gpus=GPUS_70, queue_s=arrival_wait)
chunked = serving.time_to_first_token(
    llama70, h100, PROMPT, gpus=GPUS_70, chunk_tokens=512, decode_batch=DECODE_B,
    decode_context=DECODE_L, queue_s=arrival_wait,
)
glue("ch10_ttft_alone_ms", alone * 1e3, display=False)
glue("ch10_ttft_chunked_ms", chunked * 1e3, display=False)
glue("ch10_wait_ms", arrival_wait * 1e3, display=False)
{"one pass, decode paused (ms)": round(alone * 1e3, 1), "512-token chunks (ms)": round(chunked * 1e3, 1)}
""")

md(r"""
With an average wait of {glue:text}`ch10_wait_ms:.1f` ms for the step in flight, a
{glue:text}`ch10_prompt:,d`-token prompt sees its first token after
{glue:text}`ch10_ttft_alone_ms:.0f` ms if the replica pauses decoding for one pass, and after
{glue:text}`ch10_ttft_chunked_ms:.0f` ms in chunks of 512 tokens beside the decode batch. The
second number is a little larger; in exchange, no decoding user's step ever grows by a whole
prefill.
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-cache)=
## Prompt caching: what a hit saves

Conversations resend their history with every turn, agents resend their instructions, and
many requests share a long system prompt. A server that keeps the cache of a prefix can skip
its prefill the next time the same prefix arrives. DeepSeek keeps such caches on disk and
reported that {glue:text}`ch10_hit_share:.1%` of a day's input tokens hit them
{cite}`deepseek-inference-overview`. What does a hit save, and what does keeping the cache
cost? `prefill.cache_hit_saving` answers both, per request:

- **saved**: the prefill GPU time of the cached tokens, the difference between prefilling the
  whole prompt and prefilling only the part past the prefix;
- **holding** the prefix in HBM: its bytes take that share of an accelerator's memory for as
  long as they are kept, which we bill as the same share of the accelerator's time;
- **reloading** it from elsewhere: moving its bytes back over a link takes that link's time,
  which we bill as a whole accelerator's (a bound: a transfer that overlaps computation costs
  less).
""")

code(r"""
HIT_PROMPT, HIT_CACHED, HIT_PER_PASS = 6_000, 5_000, 8  # a conversation's next turn
hit = prefill.cache_hit_saving(
    ds, h800, HIT_PROMPT, HIT_CACHED, "native", prefill_batch=HIT_PER_PASS,
    reload_bytes_per_s=h800.scaleout_bytes_per_s,
)
miss_per_token = tm.cost_per_input_token(ds, h800, HIT_PROMPT, HIT_PER_PASS, "native")
reload_per_token = hit.reload / HIT_CACHED
hbm_prefix = tm.kv_bytes_per_sequence(ds, HIT_CACHED)
share = tm.measured.measurement("deepseek-production", "cache_hit_share").value
glue("ch10_hit_share", share, display=False)
glue("ch10_hit_prompt", HIT_PROMPT, display=False)
glue("ch10_hit_cached", HIT_CACHED, display=False)
glue("ch10_hit_saved_ms", hit.prefill_saved * 1e3, display=False)
glue("ch10_hit_prefix_mb", hbm_prefix / 1e6, display=False)
glue("ch10_hit_break_even_s", hit.break_even_hold_s, display=False)
glue("ch10_hit_reload_share", reload_per_token / miss_per_token, display=False)
glue("ch10_link_gbs", h800.scaleout_bytes_per_s / 1e9, display=False)
hit._asdict()
""")

md(r"""
Take a conversation turn of {glue:text}`ch10_hit_prompt:,d` tokens whose first
{glue:text}`ch10_hit_cached:,d` were sent before, on DeepSeek-V3 with FP8 weights on H800s.
The hit skips {glue:text}`ch10_hit_saved_ms:.0f` ms of GPU time. The prefix's cache is
{glue:text}`ch10_hit_prefix_mb:.0f` MB; held in HBM it costs as much as recomputing it once
{glue:text}`ch10_hit_break_even_s:.0f` seconds have passed, so HBM suits prefixes reused
within a minute, such as the steps of one agent's task. Brought back over the
{glue:text}`ch10_link_gbs:.0f` GB/s network link of an H800, the same prefix costs
{glue:text}`ch10_hit_reload_share:.1%` of what prefilling it would. That is why a slow, cheap
store (host memory, disk) behind a fast link makes prompt caching pay: reading a cache entry
costs a few percent of computing it.

:::{admonition} Takeaway
:class: tip
A cache hit replaces a token's arithmetic with a read of its cache entry, which costs a few
percent as much. Kept in HBM, a prefix pays for itself only if it returns within seconds to a
minute; kept in cheaper memory and reloaded, it nearly always does.
:::
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-prices)=
## What the price lists say

We now hold the model against published prices. The only first-party per-token list prices we
found for a model among the presets are DeepSeek's, as of February 2025
{cite}`deepseek-api-pricing`; the R1 prices are also the ones DeepSeek used to value its day of
production {cite}`deepseek-inference-overview`. (OpenAI and Meta release the weights of
gpt-oss and Llama; we found no first-party per-token price for either.) These
are **list prices**: what a customer is charged, not what serving costs, and DeepSeek notes
that its actual revenue was lower (discounts, free use). Beside them we put the cost ratio
implied by DeepSeek's own published throughputs at its assumed lease of \$2 per GPU-hour, and
the model at DeepSeek's operating point above.
""")

code(r"""
# USD per million tokens: (cache hit, cache miss, output), DeepSeek API price list, Feb 2025
LIST_PRICES = {
    "DeepSeek-V3 (deepseek-chat)": (0.07, 0.27, 1.10),
    "DeepSeek-R1 (deepseek-reasoner)": tuple(
        tm.measured.measurement("deepseek-production", metric).value
        for metric in ("price_input_cache_hit", "price_input_cache_miss", "price_output")
    ),
}
day = tm.fleet.deepseek_day()
decode_usd = day.decode_usd_per_million_output
miss_usd = tm.fleet.usd_per_million_tokens(
    day.prefill_tokens_per_s_per_node_excl_cache_hit, day.gpus_per_node, day.usd_per_gpu_hour
)
ds_label = "DeepSeek-V3, 144 x H800, FP8"
model_first = operating[ds_label, DS_CONTEXT, "first-order"]
model_refined = operating[ds_label, DS_CONTEXT, "refined"]

rows = ["| source | output / input (miss) | hit / miss |", "|---|---:|---:|"]
for label, (hit_usd, miss, out) in LIST_PRICES.items():
    rows.append(f"| list price, {label} | {out / miss:.2f} | {hit_usd / miss:.2f} |")
rows.append(f"| DeepSeek's day, measured throughputs at \\$2/GPU-h | {decode_usd / miss_usd:.2f} | |")
rows.append(f"| model, first-order, L = {DS_CONTEXT:,.0f} | {model_first.ratio:.2f} "
            f"| {hit.reload / HIT_CACHED / miss_per_token:.2f} |")
rows.append(f"| model, refined, L = {DS_CONTEXT:,.0f} | {model_refined.ratio:.2f} | |")

v3, r1 = LIST_PRICES.values()
glue("ch10_list_v3_ratio", v3[2] / v3[1], display=False)
glue("ch10_list_r1_ratio", r1[2] / r1[1], display=False)
glue("ch10_list_r1_hit", r1[0] / r1[1], display=False)
glue("ch10_measured_ratio", decode_usd / miss_usd, display=False)
glue("ch10_measured_decode_usd", decode_usd, display=False)
glue("ch10_measured_miss_usd", miss_usd, display=False)
glue("ch10_prefill_share", day.prefill_nodes / day.split_nodes, display=False)

# the day's tokens priced by the model at DeepSeek's operating point (first-order)
published = {
    metric: tm.measured.measurement("deepseek-production", metric).value
    for metric in ("input_tokens", "output_tokens", "cache_hit_share")
}
miss_tokens = published["input_tokens"] * (1 - published["cache_hit_share"])
prefill_gpu_s = miss_tokens * model_first.input_gpu_s
decode_gpu_s = published["output_tokens"] * model_first.output_gpu_s
glue("ch10_model_prefill_share", prefill_gpu_s / (prefill_gpu_s + decode_gpu_s), display=False)
glue("ch10_miss_tokens_bn", miss_tokens / 1e9, display=False)
glue("ch10_output_tokens_bn", published["output_tokens"] / 1e9, display=False)
Markdown("\n".join(rows))
""")

md(r"""
DeepSeek charges {glue:text}`ch10_list_v3_ratio:.1f` (V3) and
{glue:text}`ch10_list_r1_ratio:.1f` (R1) times as much for an output token as for an input
token that misses the cache. Its own throughputs put the cost of decode time at
\${glue:text}`ch10_measured_decode_usd:.2f` per million output tokens and the cost of prefill
time at \${glue:text}`ch10_measured_miss_usd:.2f` per million input tokens that miss the
cache (if the prefill nodes' time went to those tokens), a ratio of
{glue:text}`ch10_measured_ratio:.1f`. The model at DeepSeek's published context gives
{glue:text}`ch10_ratio_ds_long_first:.1f` first-order and
{glue:text}`ch10_ratio_ds_long_refin:.1f` refined. Physics, measurement and price list agree
on the direction and on the size within a factor of two: output tokens cost a few input
tokens because they are made in memory-bound steps that each read a 5,000-token cache, and
the list price rounds that up. The same operating point also splits DeepSeek's day roughly
as DeepSeek did: priced by the model, the day's {glue:text}`ch10_miss_tokens_bn:.0f` billion
input tokens that missed the cache and {glue:text}`ch10_output_tokens_bn:.0f` billion output
tokens put prefill at {glue:text}`ch10_model_prefill_share:.0%` of the GPU time, where
DeepSeek's throughputs put its prefill nodes at {glue:text}`ch10_prefill_share:.0%` of the
nodes they account for.

The cache discount is another matter. A hit costs {glue:text}`ch10_list_r1_hit:.0%` of a
miss on the R1 list, while reloading the cache costs the server a few percent of recomputing
it (the last column). A prompt-cache hit is where a provider's margin is widest.

:::{dropdown} Caveat: what these comparisons leave out
The model's ratios are bounds at datasheet peaks; real kernels reach a fraction of them, and
not the same fraction for prefill (compute-bound) as for decode (memory-bound).
The decode batch is our assumption (the largest that fits); DeepSeek does not state its own.
The storage of cached prefixes on disk has a cost we do not price. Prices change often: these
are DeepSeek's list prices of February 2025, and other providers' lists are not compared here.
:::
""")

# ---------------------------------------------------------------------------------------------
md(r"""
(sec-prefill-explorer)=
## Explore

The prefill explorer puts the model, the accelerator, the precision, the replica, the prompt
length, the prompts per pass and the decode batch on controls: the left chart is the time to
first token, the right the cost of an input and an output token, both against the prompt
length.
""")

code(r"""
tm.widgets.prefill_explorer()
""", tags=["remove-output"])

md(r"""
The controls respond only while a Python kernel runs this page: open it with `make lab` (see
the README). {numref}`fig-ch10-explorer` is what the explorer draws at its starting setting.
""")

code(r"""
tm.plots.prefill_chart(
    ds, h100, "bf16", tm.widgets.default_gpus(ds.name, h100.name), decode_batch=256,
    prefill_batch=8, marker=PROMPT,
)
""", **figure(
    "fig-ch10-explorer",
    "The prefill explorer's starting view: DeepSeek-V3 on 32 H100s in BF16. Left, the time to "
    "first token of one prompt against its length, with the crossover where the pass turns "
    "compute-bound. Right, the GPU time of an input token (passes of 8 prompts) and of an "
    "output token (decode batch 256, context equal to the prompt); points mark a 2,000-token "
    "prompt.",
    "Two log-log charts against prompt length. On the left, time to first token is flat until "
    "about five thousand tokens, where a dashed line marks the crossover, then rises steadily. "
    "On the right, the cost of an input token falls until its pass is compute-bound and then "
    "stays flat, while the cost of an output token lies well above it and rises with the "
    "context.",
))

# ---------------------------------------------------------------------------------------------
md(r"""
## Exercise

:::{exercise}
:label: ex-ch10-llama8
Llama-3.1-8B serves chat on one H100 in BF16. (a) From how many prompt tokens is a single
prompt's prefill compute-bound? (b) At a decode batch of 64 and a context of 4,096 tokens,
how many input tokens does one output token cost (prompts of 4,096 tokens, one per pass)?
(c) Which of the two terms of $B^*_0/B_d + L/L_\text{crit}$ is larger?
:::
""")

md(r"""
```{solution-start} ex-ch10-llama8
:class: dropdown
```
""")

code(r"""
l8_cross = tm.prefill_crossover_tokens(llama8, h100)
l8_prices = prefill.token_prices(llama8, h100, 4096, 64, 4096)
weights_term = tm.sweet_spot(llama8, h100) / 64
cache_term = 4096 / tm.critical_context(llama8, h100)
assert math.isclose(l8_prices.ratio, weights_term + cache_term, rel_tol=1e-6)
larger = "weights" if weights_term > cache_term else "cache"
glue("ch10_ex_cross", l8_cross, display=False)
glue("ch10_ex_ratio", l8_prices.ratio, display=False)
glue("ch10_ex_weights", weights_term, display=False)
glue("ch10_ex_cache", cache_term, display=False)
glue("ch10_ex_larger", larger, display=False)
{"crossover": round(l8_cross), "ratio": round(l8_prices.ratio, 2), "larger term": larger}
""", **SOLUTION)

md(r"""
(a) From about {glue:text}`ch10_ex_cross:,.0f` tokens: nearly every prompt. (b) One output
token costs {glue:text}`ch10_ex_ratio:.1f` input tokens: the weights term is
{glue:text}`ch10_ex_weights:.2f` and the cache term {glue:text}`ch10_ex_cache:.2f`. (c) The
{glue:text}`ch10_ex_larger` term: an 8B model's cache is large for its arithmetic
(grouped-query attention with 8 KV heads), so at 4,096 tokens of context the cache read
outweighs the unshared weights.
""", **SOLUTION)

md(r"""
```{solution-end}
```
""")

# ---------------------------------------------------------------------------------------------
md(r"""
## Summary

- A prefill pass reads the weights once for all its tokens, so it turns compute-bound once it
  holds about the decode sweet spot's worth of tokens ({glue:text}`ch10_cross_ds:,.0f` for
  DeepSeek-V3 on an H100, {glue:text}`ch10_cross_l70:,.0f` for Llama-3.1-70B). Past that an
  input token costs its arithmetic.
- An output token costs, in input tokens, $B^*_0/B_d + L/L_\text{crit}$. At the operating
  point of {ref}`sec-prefill-ratio` (prompts of {glue:text}`ch10_prompt:,d` tokens, decode at
  a context of {glue:text}`ch10_ds_context:,.0f` tokens with the batch that fills memory), the
  model puts the output/input cost ratio at {glue:text}`ch10_ratio_ds_long_first:.1f` for
  DeepSeek-V3 on 144 H800s, {glue:text}`ch10_ratio_l70_long_first:.1f` for Llama-3.1-70B on
  4 H100s and {glue:text}`ch10_ratio_oss_long_first:.1f` for gpt-oss-120b on one H100
  (first-order).
- DeepSeek's list prices charge {glue:text}`ch10_list_r1_ratio:.1f` times as much for output
  as for input; its measured throughputs imply {glue:text}`ch10_measured_ratio:.1f`. The
  physics explains the ratio; the list rounds it up.
- Time to first token is the prefill of the prompt plus the queueing before it; at long
  prompts the attention arithmetic dominates it. Chunked prefill hides prompt tokens in the
  idle arithmetic of memory-bound decode steps.
- A prompt-cache hit swaps arithmetic for a cache read costing a few percent as much; the
  list discount for a hit passes on less than that.
""")


def build(path: Path) -> None:
    nb = v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for n, (kind, source, meta) in enumerate(CELLS):
        cell = v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source)
        cell.id = f"ch10-{n:02d}"
        cell.metadata = dict(meta)
        nb.cells.append(cell)
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "chapters/10_prefill.ipynb"))
