"""Modelling assumptions: which refinements of the first-order decode roofline are switched on.

The seed essay's first-order model reads every weight each step, counts 2 FLOPs per active
parameter and nothing for attention, and runs memory and tensor cores at their datasheet
peaks. Each field of :class:`Assumptions` relaxes one of those choices; the book adds them
one at a time in the chapter on what the first-order model leaves out. Every roofline,
prefill and serving function takes ``assume=``; the default is :data:`FIRST_ORDER`, so
leaving it out gives the seed essay's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from numbers import Integral
from typing import Literal

from . import _validate as v
from ._validate import echo

ExpertReads = Literal["all", "expected"]

_EXPERT_READS = ("all", "expected")


@dataclass(frozen=True)
class Assumptions:
    """One set of modelling assumptions (frozen: copy with ``dataclasses.replace``).

    ``expert_reads``: ``"all"`` (the first-order model: every step reads every weight) or
    ``"expected"`` (the shared weights plus the routed experts a batch touches, expected
    under uniform routing; see :func:`tokenmath.specs.routed_share_read`).

    ``attention_flops``: ``False`` (2 FLOPs per active parameter only) or ``True`` (add the
    arithmetic of attending to every cached token; see
    :func:`tokenmath.specs.attention_flops_per_token`).

    ``mem_efficiency`` and ``compute_efficiency``: the fractions of the HBM bandwidth and of
    the dense tensor peak that the kernels achieve, in (0, 1]. 1 is the datasheet peak.

    ``draft_tokens`` and ``accepted_tokens``: speculative decoding, such as DeepSeek-V3's
    multi-token prediction (MTP). Each decode step verifies, for every sequence, its next
    token and ``draft_tokens`` drafted ones (a whole number >= 0): ``1 + draft_tokens``
    tokens of arithmetic and expert routing per sequence, one read of the weights and of each
    cache. On average ``accepted_tokens`` drafts (0 to ``draft_tokens``) pass, so a step
    yields ``1 + accepted_tokens`` tokens per sequence (:attr:`tokens_per_step`). The cost of
    drafting itself (DeepSeek's MTP module is one extra layer) is left out. The default, no
    drafts, is one token per sequence per step.

    >>> Assumptions(expert_reads="expected").attention_flops
    False
    >>> Assumptions(draft_tokens=1, accepted_tokens=0.85).tokens_per_step
    1.85
    """

    expert_reads: ExpertReads = "all"
    attention_flops: bool = False
    mem_efficiency: float = 1.0
    compute_efficiency: float = 1.0
    draft_tokens: int = 0
    accepted_tokens: float = 0.0

    def __post_init__(self) -> None:
        if self.expert_reads not in _EXPERT_READS:
            valid = ", ".join(repr(k) for k in _EXPERT_READS)
            raise ValueError(f"expert_reads must be one of {valid}; got {echo(self.expert_reads)}")
        if not isinstance(self.attention_flops, bool):
            raise ValueError(
                f"attention_flops must be True or False; got {echo(self.attention_flops)}"
            )
        for name in ("mem_efficiency", "compute_efficiency"):
            share = v.positive_scalar(name, getattr(self, name))
            if share > 1.0:
                raise ValueError(f"{name} must be > 0 and <= 1; got {share!r}")
        drafts = self.draft_tokens
        if isinstance(drafts, bool) or not isinstance(drafts, Integral) or drafts < 0:
            raise ValueError(f"draft_tokens must be a whole number >= 0; got {echo(drafts)}")
        object.__setattr__(self, "draft_tokens", int(drafts))
        accepted = v.non_negative_scalar("accepted_tokens", self.accepted_tokens)
        if accepted > drafts:
            raise ValueError(
                f"accepted_tokens must be >= 0 and <= draft_tokens ({drafts}); got {accepted!r}"
            )

    @property
    def tokens_per_step(self) -> float:
        """Tokens each sequence gains per decode step on average, ``1 + accepted_tokens``."""
        return 1.0 + float(self.accepted_tokens)

    @property
    def verified_tokens(self) -> int:
        """Tokens each sequence runs through the model per decode step, ``1 + draft_tokens``."""
        return 1 + self.draft_tokens

    def describe(self) -> str:
        """The fields that differ from :data:`FIRST_ORDER`, as ``name=value`` text."""
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != f.default
        ]
        return ", ".join(changed) or "first-order"


#: The seed essay's model, with all weights read, no attention arithmetic and datasheet peaks.
FIRST_ORDER = Assumptions()

#: Expected expert reads and attention arithmetic, still at datasheet peaks.
REFINED = Assumptions(expert_reads="expected", attention_flops=True)


def check_assumptions(assume: object) -> Assumptions:
    """Return ``assume`` if it is an :class:`Assumptions`, else raise naming it."""
    if not isinstance(assume, Assumptions):
        raise ValueError(
            "assume must be a tokenmath Assumptions (e.g. tm.FIRST_ORDER or tm.REFINED); "
            f"got {echo(assume)}"
        )
    return assume
