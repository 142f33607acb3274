#!/usr/bin/env bash
# The checks that need a GPU, in one command. Not yet run on one (no GPU has been lent to this project):
# its steps are sized to take under 8 minutes on one H100/H200 by estimate, and only its CPU dry run is measured.
#
#   bash benchmarks/gpu.sh             # on a machine with CUDA; results under $OUT (default gpu_results/)
#   bash benchmarks/gpu.sh --dry-run   # the same steps on the CPU at toy sizes: checks the script, measures nothing
#
# 1. the CUDA tests: the training step under torch.cuda.set_sync_debug_mode("error") (no host round trip),
#    the flow and the metrics on CUDA against the CPU;
# 2. the README's main job (`identifiability run`) on CUDA;
# 3. time to affine R^2 0.99 on the sphere problem at d = 10 and d = 40 (benchmarks/time_to_identify.py, seed 0),
#    kappa set so that a pair tells as much per dimension as at d = 10 (10 at d = 10, 43.9 at d = 40); d = 10 under
#    the default recipe, d = 40 under the best one measured on the CPU (`batch`: batch 2048, 40 000 steps);
# 4. batched seeds at S = 1, 16 and 64 (benchmarks/seeds_and_sweeps.py, its default and small problems; not its
#    flow problems, whose 81 sequential runs alone would take minutes): speed-up, FLOP rate, share of peak,
#    the sampler's share of a step.
# Each step's output goes to $OUT/<step>.txt; the last lines printed are one table of every step.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_results}
mkdir -p "$out"
if [[ ${1:-} == --dry-run ]]; then
    device=cpu steps=20 tti="--steps 200 --every 100" seeds="--steps 3 --counts 1 2"
else
    if ! python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
        echo "no CUDA device here: run with --dry-run to check the script on the CPU" >&2
        exit 2
    fi
    device=cuda steps=3000 tti="" seeds="--steps 200 --counts 1 16 64"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
fi
rows=()

# run NAME SUMMARY_PATTERN COMMAND...: run it, keep its output, and add a row with its wall time,
# exit status and the output's last line matching the pattern
run() {
    local name=$1 pattern=$2 began status summary
    shift 2
    began=$(date +%s.%N)
    "$@" > "$out/$name.txt" 2>&1
    status=$?
    summary=$(grep -E "$pattern" "$out/$name.txt" | tail -n 1 | tr '|' ' ' | tr -s ' ')
    rows+=("| $name | $(python -c "print(f'{$(date +%s.%N) - $began:.0f}')") | $status | ${summary:-see $out/$name.txt} |")
    echo "$name: exit $status" >&2
}

run cuda-tests "passed|failed|skipped" python -m pytest -q -p no:cacheprovider -n 0 -m "not slow" -k cuda tests
run main-job "affine R\^2|training " identifiability run --device "$device" --steps "$steps" --results "$out/runs.jsonl"
# shellcheck disable=SC2086
run time-to-0.99-d10 "^whitened" python benchmarks/time_to_identify.py --dims 10 --seeds 0 --recipes whitened \
    --information-of 10 --device "$device" --out "$out/time_to_identify_d10" $tti
# shellcheck disable=SC2086
run time-to-0.99-d40 "^batch" python benchmarks/time_to_identify.py --dims 40 --seeds 0 --recipes batch \
    --information-of 10 --device "$device" --out "$out/time_to_identify_d40" $tti
# shellcheck disable=SC2086
run batched-seeds "^\| default" python benchmarks/seeds_and_sweeps.py --only seeds --problems default small --device "$device" $seeds

echo
echo "| step | wall s | exit | summary (full output in $out/) |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
grep -E "^(recipe|whitened)" "$out/time-to-0.99-d10.txt"
grep -E "^batch" "$out/time-to-0.99-d40.txt"
grep -E "^\|" "$out/batched-seeds.txt"
