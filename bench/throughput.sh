#!/usr/bin/env bash
# Capture throughput of OptNeurons beside a PyTorch eager baseline on the CPU, in one invocation: one table.
# Both sides read the same random OPT-125m-shaped checkpoint (HF safetensors, written once) and the same token ids,
# with the same torch thread count. OptNeurons runs the real capture path (FullModelEngine, default statistics);
# PyTorch runs the whole model (every layer and the LM head) with a hook counting active neurons, as a user of
# HuggingFace would. Also printed: the statistics' overhead over a forward pass, and each side's share of the GEMM peak.
#
# usage: bench/throughput.sh [--quick] [WORK_DIR]          (default WORK_DIR /tmp/optneurons-throughput)
#   --quick (or BENCH_SMOKE=1): 2 layers, 2 × 128 tokens, 2 repeats: checks that everything runs, in about a minute.
#   BENCH_THREADS (default: every core)  BENCH_DTYPES (float32,bfloat16)  BENCH_BATCH (8)  BENCH_LENGTH (512)
#   BENCH_LAYERS (12)  BENCH_REPEATS (5)  BENCH_WARMUP (1)  BENCH_DENSITY (0.05: share of FFN neurons active per token)
#   PYTHON: a python3 with torch; otherwise python3 or /usr/bin/python3 with torch, else (as root) Debian's python3-torch
#   is installed with OpenBLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${BENCH_SMOKE:-0}
[ "${1:-}" = --quick ] && { quick=1; shift; }
work=${1:-/tmp/optneurons-throughput}
if [ "$quick" = 1 ]; then d_layers=2 d_batch=2 d_length=128 d_repeats=2; else d_layers=12 d_batch=8 d_length=512 d_repeats=5; fi
layers=${BENCH_LAYERS:-$d_layers} batch=${BENCH_BATCH:-$d_batch} length=${BENCH_LENGTH:-$d_length}
repeats=${BENCH_REPEATS:-$d_repeats} warmup=${BENCH_WARMUP:-1} density=${BENCH_DENSITY:-0.05}
threads=${BENCH_THREADS:-$(nproc)} dtypes=${BENCH_DTYPES:-float32,bfloat16}

source bench/find-torch.sh   # find_torch_python: sets $python and $python_note

dotnet build bench/Throughput/Throughput.csproj -c Release -v q -nologo >/dev/null
bench=(dotnet artifacts/bin/Throughput/release/Throughput.dll)
model="$work/opt125m-L$layers-density$density"
ids="$work/ids-$batch-x-$length.json"
"${bench[@]}" prepare --model "$model" --ids "$ids" --layers "$layers" --hidden 768 --heads 12 --ffn 3072 \
  --density "$density" --sequences "$batch" --length "$length"

baseline=() note=""
find_torch_python
if [ -n "$python" ]; then
  echo "PyTorch: $torch_version ($python)" >&2
  rm -f "$work/pytorch.json"
  # Debian sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old-OpenBLAS safety; they halve its GEMM speed. Unset here only.
  # The MALLOC_ settings give PyTorch the heap policy OptNeurons sets for itself (lib/Runtime/HeapReuse.cs): freed
  # tensor memory is reused instead of page-faulted in again, so neither side is timed on the kernel's page zeroing.
  if env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 "$python" bench/pytorch_baseline.py --model "$model" --ids "$ids" \
       --out "$work/pytorch.json" --device cpu --dtypes "$dtypes" --batch "$batch" --threads "$threads" \
       --repeats "$repeats" --warmup "$warmup"; then
    baseline=(--baseline "$work/pytorch.json"); note="OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset and MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 set for PyTorch (the heap policy OptNeurons sets for itself)${python_note:+; $python_note}"
  else
    note="bench/pytorch_baseline.py failed (its error is above)"
  fi
else
  note="$python_note"
fi

"${bench[@]}" measure --model "$model" --ids "$ids" --device cpu --dtypes "$dtypes" --batch "$batch" --threads "$threads" \
  --repeats "$repeats" --warmup "$warmup" --label "OPT-125m shape" "${baseline[@]}" --baseline-note "$note"
