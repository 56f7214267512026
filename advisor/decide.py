"""`decide(answers) -> Decision`: run every rule, add up the scores, size LoRA, QLoRA and full
fine-tuning with the estimator, rule out what cannot be done (nothing to train on, over the
budget), pick the winner and mark the reasons that argue for it. `recommend()` adds the detail
(plans, warnings, next steps, what would change it); the what-if re-runs call this alone."""
from __future__ import annotations

from dataclasses import dataclass, field

from advisor import sizing
from advisor.answers import Answers
from advisor.distill import distillation
from advisor.recommendation import Distillation, MethodFit, Reason, label
from advisor.rules import APPROACHES, FINETUNE, RULES
from advisor.sources import title
from advisor.text import approach_method_label, money, where
from advisor.training_data import choose_recipe, has_training_data, sft_then_dpo

# The hybrid: a fine-tuned primary also gets RAG when the facts side scores at least this;
# and when RAG wins but fine-tuning scores at least FT_HYBRID_THRESHOLD (a behaviour RAG cannot
# give), the fine-tuned model becomes the primary with RAG combined (the glossaries' production
# pattern: fine-tune for style, retrieve for facts).
RAG_HYBRID_THRESHOLD = 2.0
FT_HYBRID_THRESHOLD = 4.0
_TIE_ORDER = {a: i for i, a in enumerate(APPROACHES)}  # ties go to the cheaper, simpler approach
ESTIMATOR_CLAIM = "Per-GPU memory, time and cost of each method on your GPUs, from the model's shape."


@dataclass
class Decision:
    scores: dict[str, float]
    reasons: list[Reason]
    warnings: list[str]
    primary: str
    combine: list[str]
    recipe: str | None
    then_dpo: bool
    distill: Distillation | None
    job: sizing.Job | None  # what sizing saw: the student on the labels when distilling
    fits: dict[str, MethodFit] = field(default_factory=dict)
    stages: dict[str, MethodFit] = field(default_factory=dict)  # DPO stages after SFT
    ruled_out: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        return label(self.primary, self.combine, self.recipe, self.then_dpo, self.distill is not None)


@dataclass
class Fired:
    """One rule (or sizing finding) that applied: what it says and does, before it is written up
    as a `Reason` (only the full recommendation needs those; the what-ifs need the scores)."""

    rule: str
    source: str
    claim: str
    text: str
    answers: list[str]
    effect: dict[str, float]
    rules_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    correction: str | None = None
    correction_source: str | None = None
    finetune_only: bool = False

    def reason(self) -> Reason:
        return new_reason(self.rule, self.source, self.claim, self.text, self.answers, self.effect,
                          self.rules_out, self.correction, self.correction_source)


def new_reason(name: str, source: str, claim: str, text: str, answers: list[str], effect: dict,
               rules_out: list[str] | None = None, correction: str | None = None,
               correction_source: str | None = None) -> Reason:
    return Reason(
        rule=name, text=text, answers=answers, source=source, source_title=title(source), claim=claim,
        correction=correction, correction_source=correction_source,
        correction_source_title=title(correction_source) if correction_source else None,
        effect=effect, rules_out=rules_out or [],
    )


def run_rules(a: Answers) -> tuple[dict[str, float], list[Fired]]:
    """Scores, and every rule that applies."""
    scores = {k: 0.0 for k in APPROACHES}
    fired = []
    for r in RULES:
        out = r.apply(a)
        if out is None:
            continue
        for k, v in out.deltas.items():
            scores[k] += v
        fired.append(Fired(r.name, r.source, r.claim, out.text, out.answers, out.deltas, out.rules_out,
                           out.warnings, r.correction, r.correction_source, r.finetune_only))
    return scores, fired


def sizing_findings(a: Answers, fits: dict[str, MethodFit], stages: dict[str, MethodFit]) -> list[Fired]:
    """From the estimator: a method that does not fit the GPUs loses points (so LoRA vs QLoRA vs
    full is decided here; when nothing fits, the one closest to fitting loses least), and one
    that costs more than the budget is ruled out."""
    out = []
    answers = ["model", "gpu", "gpu_count", "budget_usd"]
    for approach, f in fits.items():
        name = approach_method_label(approach)
        if not f.fits:
            text = (f"{name} does not fit any catalog GPU, even 64 of them." if f.rented else
                    f"{name} needs {f.total_gib:.1f} GiB per GPU: it does not fit {where(f)}.")
            out.append(Fired("estimator_fit", "estimator", ESTIMATOR_CLAIM, text, answers,
                             {approach: -round(sizing.not_fit_penalty(f), 2)}))
        if f.over_budget:
            cost = sizing.plan_cost(f, stages.get(approach))
            dpo = " with its DPO stage" if approach in stages else ""
            own = "" if f.rented else " (at on-demand prices: leave the budget empty if your GPU time is free)"
            out.append(Fired(
                "estimator_budget", "estimator", ESTIMATOR_CLAIM,
                f"{name}{dpo} would cost about {money(cost)} on {where(f)}, over your "
                f"{money(a.budget_usd)} budget: ruled out{own}.", answers, {}, [approach]))
    return out


def _winner(scores: dict[str, float], allowed: list[str]) -> str:
    return max(allowed, key=lambda k: (round(scores[k], 6), -_TIE_ORDER[k]))


def decide(a: Answers, explain: bool = True) -> Decision:
    """The decision; `explain=False` (the what-ifs) skips writing the reasons up."""
    scores, fired = run_rules(a)
    recipe, then_dpo, plan = choose_recipe(a), sft_then_dpo(a), distillation(a)
    job = sizing.job_for(a, recipe) if has_training_data(a) else None
    fits = sizing.size_methods(job, recipe) if job else {}
    stages = sizing.dpo_stages(sizing.dpo_job(a)) if fits and then_dpo else {}
    fits = {k: sizing.priced(f, stages.get(k), a.budget_usd) for k, f in fits.items()}
    sized = sizing_findings(a, fits, stages)
    for f in sized:
        for k, v in f.effect.items():
            scores[k] += v
    ruled_out: dict[str, str] = {}
    for f in fired + sized:
        for k in f.rules_out:
            ruled_out.setdefault(k, f.text)
    allowed = [k for k in APPROACHES if k not in ruled_out]
    primary = _winner(scores, allowed)
    allowed_ft = [k for k in FINETUNE if k in allowed]
    if primary == "rag" and allowed_ft and scores[_winner(scores, allowed_ft)] >= FT_HYBRID_THRESHOLD:
        primary = _winner(scores, allowed_ft)  # build the fine-tuned model; RAG joins it below
    is_ft = primary in FINETUNE
    combine = ["rag"] if is_ft and scores["rag"] >= RAG_HYBRID_THRESHOLD else []
    kept = [f for f in fired if is_ft or not f.finetune_only] + [f for f in sized if is_ft or f.rules_out]
    reasons = [f.reason() for f in kept] if explain else []
    mark_support(reasons, {primary, *combine}, is_ft)
    return Decision(
        scores={k: round(v, 2) for k, v in scores.items()}, primary=primary, combine=combine,
        reasons=sorted(reasons, key=lambda r: not r.supports), warnings=[w for f in kept for w in f.warnings],
        recipe=recipe if is_ft else None, then_dpo=then_dpo and is_ft,
        distill=plan if is_ft else None, job=job, fits=fits, stages=stages, ruled_out=ruled_out,
    )


def supports(r: Reason, winners: set[str], finetuning: bool) -> bool:
    """Whether a reason argues for the recommendation: it raised a winner more than any rival
    (a rule that raises fine-tuning and RAG alike does not argue for RAG alone; one that raises
    only full fine-tuning does not argue for LoRA, while one raising every fine-tuning method
    alike does), or it only lowered or ruled out rivals. A reason with no score effect is
    advice on how to fine-tune when fine-tuning wins (LoRA targets), else a note."""
    if r.rules_out:
        return not set(r.rules_out) & winners
    if not any(r.effect.values()):
        return finetuning and r.rule in _HOW_TO_FINETUNE
    win = max((r.effect.get(w, 0.0) for w in winners), default=0.0)
    ft_win = max((r.effect.get(w, 0.0) for w in winners if w in FINETUNE), default=None)
    # Another fine-tuning method raised no more than the winning one is the same family, not a rival.
    rival = max((v for k, v in r.effect.items() if k not in winners
                 and not (k in FINETUNE and ft_win is not None and v <= ft_win)), default=0.0)
    if win > 0:
        return win > rival
    if rival > 0:
        return False
    lowered_winner = any(r.effect.get(k, 0) < 0 for k in winners)
    return not lowered_winner and any(v < 0 for k, v in r.effect.items() if k not in winners)


# Rules whose sentence says how to fine-tune (no score change): they go with a fine-tuning plan.
_HOW_TO_FINETUNE = {"lora_all_linear_targets"}


def mark_support(reasons: list[Reason], winners: set[str], finetuning: bool) -> None:
    for r in reasons:
        r.supports = supports(r, winners, finetuning)
