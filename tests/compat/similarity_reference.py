#!/usr/bin/env python3
"""Independent reference for the generation metrics of `fta eval`, in plain Python (nltk, jieba and
rouge-chinese are not installed here).

For each (prediction, reference) pair it computes what LLaMA-Factory's ComputeSimilarity
(src/llamafactory/train/sft/metric.py) computes, written from the definitions of the libraries it calls:

  bleu-4   nltk sentence_bleu([list(reference)], list(prediction), SmoothingFunction().method3):
           modified (clipped) n-gram precision with denominator max(1, hypothesis n-grams) for n = 1..4,
           0 when no unigram matches, NIST geometric smoothing (the k-th zero precision becomes
           1 / (2**k * denominator)), brevity penalty exp(1 - r/c) for c <= r (0 when c = 0),
           BP * exp(sum(log(p_n) / 4)).
  rouge-*  rouge-chinese's Rouge().get_scores(" ".join(hyp), " ".join(ref)) F scores: distinct n-grams
           (sets) for rouge-1/2, longest common subsequence over the whole token lists for rouge-l,
           F = 2PR / (P + R + 1e-8); all zero when either side has no token.
Each score * 100, rounded to 4 decimals with round(), then averaged over the pairs.

jieba is replaced by the segmentation FineTuneAgent documents (TextSegmenter.Words), implemented here
separately with unicodedata and a regular expression: CJK characters alone, runs of letters/digits/marks
as one word, any other non-space character alone.

usage: similarity_reference.py INPUT_JSON OUTPUT_JSON
  INPUT_JSON:  [{"prediction": str, "reference": str}, ...]
  OUTPUT_JSON: {"samples": [{"bleu-4", "rouge-1", "rouge-2", "rouge-l"}, ...], "mean": {...}}
"""
import json, math, re, sys, unicodedata
from collections import Counter

CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x3134F), (0xF900, 0xFAFF),
              (0x3040, 0x30FF), (0xAC00, 0xD7AF)]


def is_cjk(ch):
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def kind(ch):
    if ch.isspace():
        return "space"
    if is_cjk(ch):
        return "cjk"
    if unicodedata.category(ch)[0] in "LNM":
        return "word"
    return "other"


def words(text):
    # Mark every character by kind, then let a regular expression pick the tokens out of the marks.
    marks = "".join({"space": " ", "cjk": "c", "word": "w", "other": "o"}[kind(ch)] for ch in text)
    return [text[m.start():m.end()] for m in re.finditer(r"w+|c|o", marks)]


def ngram_list(tokens, n):
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def sentence_bleu4(reference, hypothesis):
    nums, dens = [], []
    for n in range(1, 5):
        hyp = Counter(ngram_list(hypothesis, n))
        ref = Counter(ngram_list(reference, n))
        nums.append(sum(min(c, ref[g]) for g, c in hyp.items()))
        dens.append(max(1, sum(hyp.values())))
    if nums[0] == 0:
        return 0.0
    c, r = len(hypothesis), len(reference)
    bp = 1.0 if c > r else (0.0 if c == 0 else math.exp(1 - r / c))
    k, logs = 1, []
    for num, den in zip(nums, dens):
        if num == 0:
            p = 1 / (2 ** k * den)
            k += 1
        else:
            p = num / den
        logs.append(0.25 * math.log(p))
    return bp * math.exp(math.fsum(logs))


def f_score(p, r):
    return 2.0 * ((p * r) / (p + r + 1e-8))


def rouge_n(hyp, ref, n):
    h, g = set(ngram_list(hyp, n)), set(ngram_list(ref, n))
    overlap = len(h & g)
    p = overlap / len(h) if h else 0.0
    r = overlap / len(g) if g else 0.0
    return f_score(p, r)


def lcs(x, y):
    # Memoised recursion over suffixes: a different route to the same length as the usual table.
    import functools
    sys.setrecursionlimit(100000)

    @functools.lru_cache(maxsize=None)
    def go(i, j):
        if i == len(x) or j == len(y):
            return 0
        if x[i] == y[j]:
            return 1 + go(i + 1, j + 1)
        return max(go(i + 1, j), go(i, j + 1))
    return go(0, 0)


def rouge_l(hyp, ref):
    length = lcs(tuple(ref), tuple(hyp))
    return f_score(length / len(hyp), length / len(ref))


def score(prediction, reference):
    hyp, ref = words(prediction), words(reference)
    if not hyp or not ref:
        r1 = r2 = rl = 0.0
    else:
        r1, r2, rl = rouge_n(hyp, ref, 1), rouge_n(hyp, ref, 2), rouge_l(hyp, ref)
    bleu = sentence_bleu4(list(reference), list(prediction))
    return {"bleu-4": round(bleu * 100, 4), "rouge-1": round(r1 * 100, 4),
            "rouge-2": round(r2 * 100, 4), "rouge-l": round(rl * 100, 4)}


def main():
    pairs = json.load(open(sys.argv[1], encoding="utf-8"))
    samples = [score(p["prediction"], p["reference"]) for p in pairs]
    mean = {k: sum(s[k] for s in samples) / len(samples) for k in samples[0]}
    json.dump({"samples": samples, "mean": mean}, open(sys.argv[2], "w", encoding="utf-8"))


if __name__ == "__main__":
    main()
