#!/usr/bin/env bash
# Peak resident memory of `optneurons capture` against model depth, full-model vs layer-streamed, on the CPU.
# Each capture runs in its own process; the command reports its peak resident set (VmHWM) on its last line.
# usage: bench/stream-memory.sh [--shape d512|125m|1.3b] [WORK_DIR] [DEPTHS...]
#   d512 (default): d = 512, depths 8 32, 64 sequences;   125m: OPT-125m's width (d = 768), depths 6 12, 64 sequences;
#   1.3b: OPT-1.3b's width (d = 2048), depths 6 24, 16 sequences (its full-depth checkpoint is 5.3 GB in fp32).
set -euo pipefail
cd "$(dirname "$0")/.."
shape=d512
if [ "${1:-}" = --shape ]; then shape=${2:?--shape needs d512, 125m or 1.3b}; shift 2; fi
case $shape in
  d512) hidden=512; default_depths="8 32"; sequences=64 ;;
  125m) hidden=768; default_depths="6 12"; sequences=64 ;;
  1.3b) hidden=2048; default_depths="6 24"; sequences=16 ;;
  *) echo "unknown --shape '$shape': expected d512, 125m or 1.3b" >&2; exit 2 ;;
esac
work=${1:-/tmp/optneurons-stream-bench}/$shape; shift || true
depths=("${@:-$default_depths}"); depths=(${depths[@]})
dotnet build cli/OptNeurons.Cli.csproj -c Release -v q -nologo >/dev/null
dotnet build bench/StreamMemory/StreamMemory.csproj -c Release -v q -nologo >/dev/null
cli=(dotnet artifacts/bin/OptNeurons.Cli/release/optneurons.dll)
for layers in "${depths[@]}"; do
  dir="$work/L$layers"
  [ -f "$dir/sequences.json" ] || dotnet artifacts/bin/StreamMemory/release/StreamMemory.dll "$dir" "$layers" "$hidden" "$sequences"
  # Small statistics (no positions, K = 4) isolate the model's share; default statistics show what they add.
  for stats in "minimal:--no-positions --sketch-capacity 4" "default:"; do
    for mode in full streamed; do
      extra=(); [ "$mode" = streamed ] && extra=(--streamed --residual host)
      start=$(date +%s.%N)
      line=$("${cli[@]}" capture --model "$dir/model" --json "$dir/sequences.json" --out "$dir/out-$mode-${stats%%:*}" --restart \
        --device cpu --max-length 128 --batch-size 8 --chunk-size 32 ${stats#*:} "${extra[@]}" 2>&1 | tail -n 1)
      peak=${line##*(}
      printf '%-5s %-3s layers  %-8s stats  %-9s %6.1fs  %s\n' "$shape" "$layers" "${stats%%:*}" "$mode" "$(echo "$(date +%s.%N) - $start" | bc)" "${peak%)}"
    done
  done
done
