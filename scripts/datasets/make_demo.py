"""Writes datasets/demo-train.jsonl and datasets/demo-test.jsonl for `distill demo`, byte for byte reproducible.

All three sample sets as Alpaca items: the instructions as they are, the reasoning problems as questions (gold
answer as output), the multiple-choice items with their lettered choices in the instruction (gold letter as
output). Every sixth item of each set (by position) is held out for the test file, so both files mix all three
kinds and both languages. Run from the repository root: python3 scripts/datasets/make_demo.py
"""
import json

def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]

items = []
for r in rows("datasets/instructions.jsonl"):
    items.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"]})
for r in rows("datasets/reasoning.jsonl"):
    items.append({"instruction": r["question"], "input": "", "output": r["answer"]})
for r in rows("datasets/commonsense_mc.jsonl"):
    choices = "\n".join(f'{c["label"]}. {c["text"]}' for c in r["choices"])
    items.append({"instruction": r["question"] + "\n" + choices + "\nAnswer with the letter of the best choice.",
                  "input": "", "output": r["answer"]})

train = [x for i, x in enumerate(items) if i % 6 != 5]
test = [x for i, x in enumerate(items) if i % 6 == 5]
for name, part in (("datasets/demo-train.jsonl", train), ("datasets/demo-test.jsonl", test)):
    with open(name, "w", encoding="utf-8") as f:
        for x in part:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    print(name, len(part))
