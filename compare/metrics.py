"""Answer-quality, retrieval, latency and perplexity metrics of the comparison.

Pure Python except `perplexity` (torch, imported inside). Every text metric works on the same
normalised tokens, so exact match, token F1 and ROUGE-L agree on what a "word" is.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

# SQuAD v1.1 evaluation script (`normalize_answer`): lower-case, drop punctuation, drop the
# articles a/an/the, collapse whitespace.
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: 'The  Paris!' -> 'paris'."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """The normalised whitespace tokens every text metric counts."""
    return normalize_answer(text).split()


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the two texts are equal after normalisation, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: harmonic mean of token precision and recall over the bag of tokens.

    Both empty -> 1.0; exactly one empty -> 0.0 (as SQuAD v2's `compute_f1`).
    """
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, O(len(a) * len(b)))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str, beta: float = 1.0) -> float:
    """ROUGE-L F-measure (Lin 2004, section 3.1): P = LCS/|pred|, R = LCS/|ref|,
    F = (1 + beta^2) P R / (R + beta^2 P). beta = 1 as in Google's `rouge-score`."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return (1 + beta**2) * precision * recall / (recall + beta**2 * precision)


def hit_at_k(retrieved: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when any of the first k retrieved ids is relevant, else 0.0."""
    wanted = set(relevant)
    return float(any(item in wanted for item in list(retrieved)[:k]))


def contains_answer(passages: Sequence[str], reference: str, k: int) -> float:
    """1.0 when one of the first k passages contains the normalised reference answer.

    The hit definition when no document is marked relevant (the knowledge base is the
    training answers): retrieval "hit" if it brought back text holding the answer."""
    ref = normalize_answer(reference)
    if not ref:
        return 0.0
    return float(any(ref in normalize_answer(p) for p in list(passages)[:k]))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default):
    rank = p/100 * (n - 1). [1, 2, 3, 4] -> p50 = 2.5, p95 = 3.85."""
    if not values:
        raise ValueError("percentile of an empty list")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for an empty list (an arm with no answers scores nothing)."""
    return sum(values) / len(values) if values else 0.0


def perplexity_from_nll(total_nll: float, n_tokens: int) -> float:
    """exp(mean negative log-likelihood per predicted token), natural log."""
    if n_tokens <= 0:
        raise ValueError("perplexity needs at least one predicted token")
    return math.exp(total_nll / n_tokens)


def perplexity(model, tokenizer, texts: Sequence[str], *, max_length: int = 512) -> float:
    """Token-level perplexity of a causal LM on `texts` (each text scored on its own, truncated
    to `max_length` tokens; every token after the first is predicted). Sums NLL over all
    predicted tokens before the exp, so long texts weigh by their length."""
    import torch

    device = next(model.parameters()).device
    total_nll, n_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
            input_ids = ids["input_ids"].to(device)
            if input_ids.shape[1] < 2:
                continue
            # transformers' loss is the mean NLL over the shifted labels (n - 1 tokens).
            loss = model(input_ids=input_ids, labels=input_ids).loss
            predicted = input_ids.shape[1] - 1
            total_nll += float(loss) * predicted
            n_tokens += predicted
    if was_training:
        model.train()
    return perplexity_from_nll(total_nll, n_tokens)
