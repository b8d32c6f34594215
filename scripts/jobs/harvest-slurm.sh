#!/usr/bin/env bash
# One harvest across a Slurm job array: each task takes its shard of the items (--shard auto reads
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT), writes its own run directory, and the last step merges them.
#   sbatch --array=0-7 scripts/jobs/harvest-slurm.sh
#   # when all 8 are done:  distill harvest merge --out runs/cot runs/cot-shard-*
# A merge with a shard missing is refused, naming it; a re-submitted task resumes its own shard.
#SBATCH --job-name=distill-harvest
#SBATCH --cpus-per-task=2
#SBATCH --time=24:00:00
set -euo pipefail
export DEEPSEEK_API_KEY  # from the submitting environment; never written anywhere
distill harvest --shard auto --recipe cot --data datasets/reasoning.jsonl --paths 4 \
    --teacher deepseek --out "runs/cot-shard-${SLURM_ARRAY_TASK_ID}"
