#!/usr/bin/env python3
"""ROUGE-L of each model's answers against the teacher's, for scripts/pipelines/seed000-embedded.json.

    python3 scripts/pipelines/seed000_rougel.py runs/seed000-embedded

Reads OUT/gen-teacher.jsonl and OUT/gen-{ce,seqkd,fkl,rkl,js}.jsonl (seed 000's generation format, the same items
in the same order) and prints a Markdown table: mean ROUGE-L F1 against the teacher's greedy answer with a bootstrap
95% CI (2,000 resamples of the items, seed 0), and the paired difference to CE with its CI.

ROUGE-L as google-research's rouge_score computes it (Lin 2004, LCS F-measure with beta = 1) with its default
tokenizer (lowercase, every run of characters other than a-z and 0-9 is a separator); when the rouge_score package is
installed it is used instead of the LCS below, and the two agree on the default tokenizer.
"""
import json
import random
import re
import sys

MODELS = [("CE", "gen-ce"), ("SeqKD", "gen-seqkd"), ("FKL", "gen-fkl"), ("RKL", "gen-rkl"), ("JS", "gen-js")]


def tokens(text):
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(reference, candidate):
    r, c = tokens(reference), tokens(candidate)
    if not r or not c:
        return 0.0
    n = lcs(r, c)
    if n == 0:
        return 0.0
    precision, recall = n / len(c), n / len(r)
    return 2 * precision * recall / (precision + recall)


try:
    from rouge_score import rouge_scorer  # type: ignore

    _scorer = rouge_scorer.RougeScorer(["rougeL"])

    def rouge_l(reference, candidate):  # noqa: F811
        return _scorer.score(reference, candidate)["rougeL"].fmeasure
except ImportError:
    pass


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def bootstrap(values, resamples=2000, seed=0):
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/seed000-embedded"
    teacher = read(f"{out}/gen-teacher.jsonl")
    scores = {}
    for label, stage in MODELS:
        rows = read(f"{out}/{stage}.jsonl")
        if [r["instruction"] for r in rows] != [t["instruction"] for t in teacher]:
            sys.exit(f"{out}/{stage}.jsonl does not list the teacher's items in the same order")
        scores[label] = [rouge_l(t["generate_output"], r["generate_output"]) for t, r in zip(teacher, rows)]
    print(f"ROUGE-L F1 against the teacher's greedy answers ({len(teacher)} held-out items; bootstrap 95% CIs)\n")
    print("| model | ROUGE-L (95% CI) | vs CE: difference (95% CI) |")
    print("|---|---|---|")
    for label, _ in MODELS:
        s = scores[label]
        lo, hi = bootstrap(s)
        diff = ""
        if label != "CE":
            d = [a - b for a, b in zip(s, scores["CE"])]
            dlo, dhi = bootstrap(d)
            diff = f"{sum(d) / len(d):+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
        print(f"| {label} | {sum(s) / len(s):.3f} [{lo:.3f}, {hi:.3f}] | {diff or '—'} |")


if __name__ == "__main__":
    main()
