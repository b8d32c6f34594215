#!/usr/bin/env python3
"""Writes an Alpaca JSONL file of about SIZE megabytes for harvest memory measurements: rows of Chinese text
(instruction + input) of MIN..MAX kilobytes each, deterministic for a seed.

    python3 scripts/memory/make_jsonl.py --mb 2048 --min-kb 16 --max-kb 48 --out /tmp/big.jsonl
"""
import argparse
import json
import random

WORDS = ["模型", "蒸馏", "教师", "学生", "数据", "训练", "知识", "推理", "答案", "问题", "语言", "向量", "注意力", "梯度",
         "损失", "样本", "批次", "温度", "采样", "评测", "🙂", "the", "model", "learns", "from", "its", "teacher"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, required=True)
    parser.add_argument("--min-kb", type=float, default=2)
    parser.add_argument("--max-kb", type=float, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = int(args.mb * 1024 * 1024)
    # A pool of text blocks to slice from, so generating 2 GB takes seconds rather than minutes.
    pool = "".join(rng.choice(WORDS) for _ in range(400_000))
    written = 0
    n = 0
    with open(args.out, "w", encoding="utf-8") as f:
        while written < target:
            n += 1
            size = int(rng.uniform(args.min_kb, args.max_kb) * 1024) // 3  # ~3 UTF-8 bytes per character
            start = rng.randrange(0, len(pool) - size - 1)
            text = pool[start:start + size]
            row = {"id": f"item-{n}", "instruction": f"第{n}题：请总结下面的文字。", "input": text}
            line = json.dumps(row, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode("utf-8"))
    print(f"{args.out}: {n} rows, {written} bytes")


if __name__ == "__main__":
    main()
