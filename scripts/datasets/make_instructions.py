#!/usr/bin/env python3
"""Writes datasets/instructions.jsonl from the hand-written items in instructions_part*.py (CC0).

Run from the repository root: python3 scripts/datasets/make_instructions.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import instructions_part1, instructions_part2, instructions_part3  # noqa: E402

items = instructions_part1.ITEMS + instructions_part2.ITEMS + instructions_part3.ITEMS
with open("datasets/instructions.jsonl", "w", encoding="utf-8") as f:
    for instruction, input_, output in items:
        f.write(json.dumps({"instruction": instruction, "input": input_, "output": output}, ensure_ascii=False) + "\n")
print(f"wrote {len(items)} items to datasets/instructions.jsonl")
