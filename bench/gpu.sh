#!/usr/bin/env bash
# The throughput comparison on a GPU: OptNeurons capture vs PyTorch eager in bf16 with an OPT-1.3b-shaped model (24
# layers, d 2048, 32 heads, ffn 8192, random weights) on CUDA, and the projected time of OPT-66b over 20 M tokens.
# Written for a borrowed machine: one short call (under 8 minutes; every step has a time limit), no internet, this
# tree copied over, .NET possibly absent. It first reports what is present and what is missing, then runs whichever
# side can run. The PyTorch side needs a python3 with CUDA torch. The OptNeurons side runs either
#   - built there: the .NET 10 SDK and TorchSharp-cuda-linux in the NuGet cache (-p:TorchBackend=cuda restores it from
#     nuget.org), or
#   - from a bundle packed beforehand on any machine with the SDK (--pack): the .NET runtime and the benchmark built
#     with -p:TorchBackend=system, which runs on that python's torch/lib (its CUDA LibTorch). TorchSharp's native glue
#     is built for LibTorch 2.10; binding another version is checked rather than assumed:
# before timing, the OptNeurons side checks its numbers on the device (Throughput verify: every reference fixture's
# logits and counts, and CPU vs device statistics byte for byte); if any differ, the figures are still measured and
# the table is labelled UNVERIFIED.
#
# usage: bench/gpu.sh [--check | --cpu-smoke] [WORK_DIR]      (default WORK_DIR /tmp/optneurons-gpu)
#        bench/gpu.sh --pack [BUNDLE_DIR]                     (default BUNDLE_DIR .gpu-bundle, which the run looks for)
#   --check      report what is present and missing; run nothing
#   --cpu-smoke  the same steps on the CPU with a 1-layer model and 64 tokens: checks the script where no GPU is
#   --pack       writes the bundle (about 32 MB)
#   BENCH_LAYERS (24)  BENCH_BATCH (4)  BENCH_LENGTH (2048)  BENCH_SEQUENCES (16)  BENCH_REPEATS (3)  BENCH_WARMUP (1)
#   BENCH_TOKENS_66B (20000000)  BENCH_DEADLINE (450: seconds for all steps)  PYTHON (a python3 with torch)
#   BENCH_BUNDLE (.gpu-bundle)  BENCH_SLOW (30: a measured variant with a run longer than this is not run again, so
#   one slow variant, such as n-gram summaries never timed on this device, cannot use up the call)
set -uo pipefail
cd "$(dirname "$0")/.."
mode=run
case "${1:-}" in
  --check) mode=check; shift ;;
  --cpu-smoke) mode=smoke; shift ;;
  --pack) mode=pack; shift ;;
  -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
  -*) echo "bench/gpu.sh: unknown option $1 (--check, --cpu-smoke, --pack)" >&2; exit 2 ;;
esac
bundle=${BENCH_BUNDLE:-.gpu-bundle}

if [ "$mode" = pack ]; then
  bundle=${1:-$bundle}
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ {v = $2} END {print v}')
  [ -n "$runtime" ] || { echo "bench/gpu.sh --pack: no .NET 10 runtime here" >&2; exit 2; }
  rm -rf "$bundle" && mkdir -p "$bundle/app"
  dotnet publish bench/Throughput/Throughput.csproj -c Release -r linux-x64 --self-contained false -p:TorchBackend=system \
    -o "$bundle/app" -v q -nologo >/dev/null || { echo "bench/gpu.sh --pack: dotnet publish failed" >&2; exit 1; }
  tar -C "$bundle" -cJf "$bundle/app.tar.xz" app && rm -rf "$bundle/app"
  tar -C "$dotnet_root" -cJf "$bundle/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime"
  echo "bench/gpu.sh --pack: $bundle ($(du -sh "$bundle" | cut -f1)): .NET $runtime and the benchmark built with TorchBackend=system"
  exit 0
fi
work=${1:-/tmp/optneurons-gpu}
if [ "$mode" = smoke ]; then
  device=cpu backend=cpu runtime_pkg=libtorch-cpu-linux-x64/2.10.0 d_layers=1 d_batch=1 d_length=64 d_sequences=1 d_repeats=1
else
  device=cuda backend=cuda runtime_pkg=torchsharp-cuda-linux/0.107.0 d_layers=24 d_batch=4 d_length=2048 d_sequences=16 d_repeats=3
fi
layers=${BENCH_LAYERS:-$d_layers} batch=${BENCH_BATCH:-$d_batch} length=${BENCH_LENGTH:-$d_length}
sequences=${BENCH_SEQUENCES:-$d_sequences} repeats=${BENCH_REPEATS:-$d_repeats} warmup=${BENCH_WARMUP:-1}
tokens66=${BENCH_TOKENS_66B:-20000000}
mkdir -p "$work"
export PYTHONUNBUFFERED=1   # progress lines as they happen, also through a pipe
# Every step runs under `timeout`: each has a cap (for 450 s in all, scaled with BENCH_DEADLINE) and never runs past
# the deadline, minus what a later step reserves, so the whole script ends within it (the call allows 10 minutes).
budget=${BENCH_DEADLINE:-450} deadline=$((SECONDS + ${BENCH_DEADLINE:-450}))
limit() {   # limit CAP [RESERVE]: seconds for the next step
  local cap=$(($1 * budget / 450)) left=$((deadline - SECONDS - ${2:-0} * budget / 450))
  [ "$left" -lt "$cap" ] && echo $((left > 10 ? left : 10)) || echo "$cap"
}

echo "== bench/gpu.sh: OPT-1.3b shape ($layers layers, d 2048, 32 heads, ffn 8192), bfloat16 on $device, $sequences × $length tokens =="
missing=()

# --- what is here ---------------------------------------------------------------------------------------------------
if [ "$device" = cuda ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && gpus=$(nvidia-smi -L 2>&1) && [ -n "$gpus" ]; then
    echo "GPU:        $gpus"
  else
    missing+=("GPU: no NVIDIA GPU visible (nvidia-smi ${gpus:+said: $gpus}${gpus:-is not on the PATH})")
  fi
fi

BENCH_NO_INSTALL=1   # no package downloads from here: the machine may have no internet, and the call is short
source bench/find-torch.sh
find_torch_python
py_ok=0
if [ -n "$python" ]; then
  echo "PyTorch:    $torch_version, $torch_cuda ($python)"
  if [ "$device" = cpu ] || [[ "$torch_cuda" != *"not available" ]]; then py_ok=1
  else missing+=("PyTorch side: $python has torch $torch_version, $torch_cuda: no CUDA device through torch"); fi
else
  missing+=("PyTorch side: $python_note")
fi

cs_ok=0 cs_from="" nuget=${NUGET_PACKAGES:-$HOME/.nuget/packages}
if command -v dotnet >/dev/null 2>&1 && dotnet --list-sdks 2>/dev/null | grep -q '^10\.' && [ -d "$nuget/$runtime_pkg" ]; then
  echo "dotnet:     $(dotnet --version), ${runtime_pkg%/*} ${runtime_pkg#*/} in $nuget"
  cs_ok=1 cs_from=sdk
elif [ -f "$bundle/dotnet.tar.xz" ] && [ -f "$bundle/app.tar.xz" ] && [ -n "$python" ]; then
  echo "bundle:     $bundle (.NET runtime, the benchmark built with TorchBackend=system, to run on $python's torch/lib)"
  cs_ok=1 cs_from=bundle
elif ! command -v dotnet >/dev/null 2>&1; then
  missing+=("OptNeurons side: dotnet is not on the PATH; it needs the .NET 10 SDK (global.json), which cannot be downloaded without internet, or a bundle ($bundle: bench/gpu.sh --pack, made where the SDK is)")
elif ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  missing+=("OptNeurons side: dotnet has no 10.x SDK (found: $(dotnet --list-sdks 2>/dev/null | cut -d' ' -f1 | tr '\n' ' '))")
elif [ "$backend" = cuda ]; then
  missing+=("OptNeurons side: TorchSharp-cuda-linux 0.107.0 is not in the NuGet cache ($nuget); the build switch -p:TorchBackend=cuda restores it (with LibTorch's CUDA packages, several GB) from nuget.org: that needs internet access, which the lent GPU machines lack (and the development machines cannot restore it); a bundle ($bundle, bench/gpu.sh --pack) avoids it")
else
  missing+=("OptNeurons side: ${runtime_pkg%/*} ${runtime_pkg#*/} is not in the NuGet cache ($nuget); a plain dotnet build restores it from nuget.org")
fi
for m in "${missing[@]}"; do echo "missing:    $m"; done
[ "$mode" = check ] && exit 0
[ "$py_ok" = 1 ] || [ "$cs_ok" = 1 ] || { echo "neither side can run here: nothing measured" >&2; exit 1; }

# --- build the OptNeurons side (restore is offline: it works only from the NuGet cache) ------------------------------
if [ "$cs_from" = sdk ]; then
  if timeout -k 10 "$(limit 120)" dotnet build bench/Throughput/Throughput.csproj -c Release -p:TorchBackend=$backend -v q -nologo >"$work/build.log" 2>&1; then
    bench=(dotnet artifacts/bin/Throughput/release/Throughput.dll)
  else
    rc=$? cs_ok=0
    echo "OptNeurons side not run: dotnet build -p:TorchBackend=$backend failed (rc $rc; $work/build.log):" >&2
    [ "$rc" = 124 ] && echo "  (timed out)" >&2
    grep -E 'error' "$work/build.log" | sort -u | head -5 >&2
  fi
elif [ "$cs_from" = bundle ]; then
  rm -rf "$work/dotnet" "$work/app" && mkdir -p "$work/dotnet"
  tar -C "$work/dotnet" -xJf "$bundle/dotnet.tar.xz" && tar -C "$work" -xJf "$bundle/app.tar.xz" ||
    { echo "unpacking $bundle failed" >&2; cs_ok=0; }
  torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export DOTNET_ROOT="$work/dotnet" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  bench=("$work/dotnet/dotnet" "$work/app/Throughput.dll")
fi

# --- one checkpoint and one token file for both sides ---------------------------------------------------------------
model="$work/opt1.3b-L$layers" ids="$work/ids-$sequences-x-$length.json"
shape=(--layers "$layers" --hidden 2048 --heads 32 --ffn 8192 --storage bfloat16 --sequences "$sequences" --length "$length")
if [ "$cs_from" = sdk ] && [ "$cs_ok" = 1 ]; then
  timeout -k 10 "$(limit 120)" "${bench[@]}" prepare --model "$model" --ids "$ids" "${shape[@]}" || { echo "prepare failed (rc $?)" >&2; exit 1; }
else
  # No .NET yet: the baseline writes a checkpoint of the same shape and distribution itself (torch's RNG, other values).
  timeout -k 10 "$(limit 120)" "$python" bench/pytorch_baseline.py --make-checkpoint --model "$model" --ids "$ids" "${shape[@]}" ||
    { echo "writing the checkpoint failed (rc $?)" >&2; exit 1; }
fi

# --- PyTorch side -----------------------------------------------------------------------------------------------------
baseline=() note=""
if [ "$py_ok" = 1 ]; then
  rm -f "$work/pytorch.json"
  reserve=0; [ "$cs_ok" = 1 ] && reserve=150   # keep time for the OptNeurons side
  if timeout -k 10 "$(limit 200 $reserve)" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" bench/pytorch_baseline.py --model "$model" --ids "$ids" \
       --out "$work/pytorch.json" --device "$device" --dtypes bfloat16 --batch "$batch" --repeats "$repeats" --warmup "$warmup" \
       --project "$tokens66"; then
    baseline=(--baseline "$work/pytorch.json")
  else
    note="bench/pytorch_baseline.py failed or ran out of time (rc $?)"; echo "$note" >&2
  fi
else
  note="PyTorch side not run (see 'missing' above)"
fi

# --- OptNeurons side, and the table -----------------------------------------------------------------------------------
label="OPT-1.3b shape"
if [ "$cs_ok" = 1 ]; then
  # A failed check does not stop the timing (one lent GPU run must bring back what it can); the table says it failed.
  timeout -k 10 "$(limit 60 120)" "${bench[@]}" verify --fixture tests/Fixtures --device "$device" ||
    { rc=$?; echo "verify failed on $device (rc $rc): the figures below are UNVERIFIED" >&2; label="$label, UNVERIFIED (verify failed, rc $rc)"; }
fi
if [ "$cs_ok" = 1 ]; then
  timeout -k 10 "$(limit 300)" "${bench[@]}" measure --model "$model" --ids "$ids" --device "$device" --dtypes bfloat16 --batch "$batch" \
    --repeats "$repeats" --warmup "$warmup" --label "$label" --project "$tokens66" "${baseline[@]}" --baseline-note "$note" \
    --slow-seconds "${BENCH_SLOW:-30}" ||
    echo "OptNeurons side failed or ran out of time (rc $?)" >&2
else
  echo "OptNeurons side not run (see 'missing' above); the PyTorch line above is the whole result"
fi
echo "bench/gpu.sh: ${SECONDS}s"
