#!/usr/bin/env bash
# Peak resident memory of `optneurons capture` against model depth, full-model vs layer-streamed, on the CPU.
# Each capture runs in its own process; the command reports its peak resident set (VmHWM) on its last line.
# usage: bench/stream-memory.sh [WORK_DIR] [DEPTHS...]     (default /tmp/optneurons-stream-bench, depths 8 32)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/optneurons-stream-bench}; shift || true
depths=("${@:-8 32}"); depths=(${depths[@]})
dotnet build cli/OptNeurons.Cli.csproj -c Release -v q -nologo >/dev/null
dotnet build bench/StreamMemory/StreamMemory.csproj -c Release -v q -nologo >/dev/null
cli=(dotnet artifacts/bin/OptNeurons.Cli/release/optneurons.dll)
for layers in "${depths[@]}"; do
  dir="$work/L$layers"
  [ -f "$dir/sequences.json" ] || dotnet artifacts/bin/StreamMemory/release/StreamMemory.dll "$dir" "$layers"
  # Small statistics (no positions, K = 4) isolate the model's share; default statistics show what they add.
  for stats in "minimal:--no-positions --sketch-capacity 4" "default:"; do
    for mode in full streamed; do
      extra=(); [ "$mode" = streamed ] && extra=(--streamed --residual host)
      start=$(date +%s.%N)
      line=$("${cli[@]}" capture --model "$dir/model" --json "$dir/sequences.json" --out "$dir/out-$mode-${stats%%:*}" --restart \
        --device cpu --max-length 128 --batch-size 8 --chunk-size 32 ${stats#*:} "${extra[@]}" 2>&1 | tail -n 1)
      printf '%-3s layers  %-8s stats  %-9s %6.1fs  %s\n' "$layers" "${stats%%:*}" "$mode" "$(echo "$(date +%s.%N) - $start" | bc)" "${line##*(}"
    done
  done
done
