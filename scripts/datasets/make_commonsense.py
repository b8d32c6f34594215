#!/usr/bin/env python3
"""Writes datasets/commonsense_mc.jsonl from commonsense_items.py (hand-written, CC0).

Run from the repository root: python3 scripts/datasets/make_commonsense.py
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from commonsense_items import ITEMS  # noqa: E402

with open("datasets/commonsense_mc.jsonl", "w", encoding="utf-8") as f:
    for n, (question, choices, answer) in enumerate(ITEMS, 1):
        assert len(choices) == 5 and answer in "ABCDE", question
        # Items are written with the right answer mostly early; shuffle (seeded, so the file is reproducible)
        # so the gold labels spread over A–E and position alone predicts nothing.
        correct = choices["ABCDE".index(answer)]
        choices = list(choices)
        random.Random(1000 + n).shuffle(choices)
        answer = "ABCDE"[choices.index(correct)]
        item = {"id": f"csmc-{n:03d}", "question": question,
                "choices": [{"label": label, "text": text} for label, text in zip("ABCDE", choices)],
                "answer": answer}
        f.write(json.dumps(item, ensure_ascii=False) + "\n")
print(f"wrote {len(ITEMS)} items to datasets/commonsense_mc.jsonl")
