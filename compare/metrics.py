"""Answer-quality, retrieval, latency and perplexity metrics of the comparison.

Pure Python except `perplexity` (torch, imported inside). Exact match, token F1 and ROUGE-L work
on the same SQuAD-normalised tokens, so they agree on what a "word" is; they measure how much an
answer *looks like* the reference. `answer_correct` asks whether it *says* the reference: the
reference's words, as a run, somewhere in the answer, with numbers and units read the way a
person reads them ("36-month", "36 months", "36 month"; "eleven", "11"). `length_agreement`
measures the form alone. A reference may list accepted answers (`reference_aliases`): every
quality metric takes the best alias, as the SQuAD script takes the best of its ground truths.
"""
from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

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


def reference_aliases(reference: str) -> list[str]:
    """The accepted answers a reference cell lists: a JSON list of strings (`["36 months", "3 years"]`),
    or `|`-separated (`36 months | 3 years`); else the reference itself. `||` (SQL's concatenation)
    and empty parts do not split, so a reference that only contains a bar stays whole."""
    text = reference.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            listed = json.loads(text)
        except json.JSONDecodeError:
            listed = None
        if isinstance(listed, list) and listed and all(isinstance(x, str) and x.strip() for x in listed):
            return [x.strip() for x in listed]
    if "|" in text and "||" not in text and "\n" not in text:
        parts = [part.strip() for part in text.split("|")]
        if all(parts) and len(parts) > 1:
            return parts
    return [reference]


def best_over_aliases(metric, prediction: str, reference: str) -> float:
    """`metric(prediction, alias)` for the alias that scores best (SQuAD's `metric_max_over_ground_truths`)."""
    return max(metric(prediction, alias) for alias in reference_aliases(reference))


# Numbers written as words, read as digits ("eleven ferries" says "11"); one word each, the ones a
# short factual answer uses.
_NUMBER_WORDS = {w: str(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS |= {w: str(10 * n) for n, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
_WORD = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")  # a number (decimal point kept) or a run of letters
_THOUSANDS = re.compile(r"(?<=\d)[,\u2009\u202f](?=\d{3}\b)")  # 740,000 -> 740000


def _singular(word: str) -> str:
    """A unit's singular: months -> month, centuries -> century, inches -> inch, hours -> hour."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def correctness_tokens(text: str) -> list[str]:
    """Words as `answer_correct` compares them: case, accents' width forms, punctuation, hyphens and
    articles gone, thousands separators dropped, number words as digits, and a unit after a number
    in the singular. "The 36-month warranty" -> ["36", "month", "warranty"]."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text).lower())
    words = [_NUMBER_WORDS.get(w, w) for w in _WORD.findall(text) if w not in ("a", "an", "the")]
    return [_singular(w) if i and words[i - 1][0].isdigit() else w for i, w in enumerate(words)]


def _contains_run(tokens_: Sequence[str], run: Sequence[str]) -> bool:
    n = len(run)
    return any(list(tokens_[i:i + n]) == list(run) for i in range(len(tokens_) - n + 1))


def answer_correct(prediction: str, reference: str) -> float:
    """1.0 when the answer states an accepted reference: its words, normalised as
    `correctness_tokens` does, appear as a run in the answer's ("The product team works in Lyon."
    for "Lyon"; "a 36 month warranty" for "36 months"). Right for short factual references; long
    free text is seldom repeated word for word (use a task scorer or ROUGE-L there)."""
    answer = correctness_tokens(prediction)
    for alias in reference_aliases(reference):
        wanted = correctness_tokens(alias)
        if wanted and _contains_run(answer, wanted):
            return 1.0
    return 0.0


def length_agreement(prediction: str, reference: str) -> float:
    """How closely the answer takes the reference's length, in [0, 1]: min/max of their token
    counts (1.0 when equally long; a sentence six times the reference's length, 0.17). The form
    alone: a wrong answer of the right length scores 1.0."""
    pred, ref = len(tokens(prediction)), len(tokens(reference_aliases(reference)[0]))
    if not pred or not ref:
        return float(pred == ref)
    return min(pred, ref) / max(pred, ref)


# References that mostly open with one word make that word part of their form: SELECT for SQL,
# "{" for JSON. 80%: a few references of another shape (a WITH query) do not hide it.
OPENING_SHARE = 0.8


def opening_word(text: str) -> str:
    """The first word, lower-cased, after a Markdown code fence (```sql) if the text opens with one."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    words = text.split()
    return words[0].lower() if words else ""


def common_opening(references: Sequence[str]) -> str | None:
    """The word at least OPENING_SHARE of the references (their first alias) open with, if any; never
    an article (short facts often open with one: that is wording, not a form)."""
    words = [opening_word(reference_aliases(reference)[0]) for reference in references]
    if len(words) < 2:
        return None
    word, count = Counter(words).most_common(1)[0]
    return word if word and not _ARTICLES.fullmatch(word) and count >= OPENING_SHARE * len(words) else None


def length_ratio(prediction: str, reference: str) -> float | None:
    """Answer tokens over reference tokens (None for an empty reference)."""
    ref = len(tokens(reference_aliases(reference)[0]))
    return len(tokens(prediction)) / ref if ref else None


def is_relevant_passage(source: str, text: str, reference: str, relevant: str | None) -> bool:
    """Whether a retrieved passage is the question's own: with a relevant document named, one from
    that document, by file name without extension ("academic" and "academic.sql" match); with none,
    one that states an accepted reference (`answer_correct`'s rule). hit@k and the hybrid's oracle
    training passage both ask it."""
    if relevant is not None:
        return Path(source).stem == Path(relevant).stem
    return bool(answer_correct(text, reference))


def contains_answer(passages: Sequence[str], reference: str, k: int) -> float:
    """1.0 when one of the first k passages states an accepted reference, by `answer_correct`'s rule.

    The hit definition when no document is marked relevant (the knowledge base is the
    training answers): retrieval "hit" if it brought back text holding the answer."""
    return float(any(answer_correct(p, reference) for p in list(passages)[:k]))


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


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones); None for an empty list."""
    return percentile(values, 50) if values else None


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
