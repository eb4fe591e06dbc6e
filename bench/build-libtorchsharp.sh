#!/usr/bin/env bash
# Rebuilds TorchSharp's native glue, libLibTorchSharp.so, against the LibTorch of an installed PyTorch, for machines
# that have PyTorch (with CUDA) but cannot restore TorchSharp's LibTorch packages: there a program built with
# -p:TorchBackend=system runs on that PyTorch's torch/lib. The glue is ordinary C++ over LibTorch's headers; the one
# built into the TorchSharp package binds LibTorch 2.10 exactly, so another version needs this rebuild.
#
# usage: bench/build-libtorchsharp.sh TORCHSHARP_NATIVE_SRC OUT_DIR
#   TORCHSHARP_NATIVE_SRC  src/Native of a TorchSharp checkout at the version the app uses (v0.107.0: git clone
#                          https://github.com/dotnet/TorchSharp; its LibTorchSharp/ folder and Stdafx.h, UnixSal.h)
#   OUT_DIR                gets libLibTorchSharp.so and build.log
#   PYTHON (python3)       the python whose torch to build against   JOBS (nproc)
# A source file that fails to compile is left out and named: its functions then fail when called, with
# EntryPointNotFoundException, while everything else works. Prints the torch/lib folder to put on LD_LIBRARY_PATH.
set -uo pipefail
src=${1:?usage: bench/build-libtorchsharp.sh TORCHSHARP_NATIVE_SRC OUT_DIR}
out=${2:?usage: bench/build-libtorchsharp.sh TORCHSHARP_NATIVE_SRC OUT_DIR}
python=${PYTHON:-python3} jobs=${JOBS:-$(nproc)}
[ -f "$src/LibTorchSharp/THSTensor.cpp" ] && [ -f "$src/Stdafx.h" ] ||
  { echo "build-libtorchsharp: $src is not TorchSharp's src/Native (no LibTorchSharp/THSTensor.cpp or Stdafx.h)" >&2; exit 2; }
read -r torch abi version < <("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI), torch.__version__)' 2>/dev/null) ||
  { echo "build-libtorchsharp: $python cannot import torch" >&2; exit 2; }
[ -f "$torch/include/torch/torch.h" ] || { echo "build-libtorchsharp: torch $version at $torch has no C++ headers (include/torch/torch.h)" >&2; exit 2; }
mkdir -p "$out/obj"
log="$out/build.log"
: >"$log"
echo "build-libtorchsharp: $src against torch $version ($torch), C++11 ABI $abi, $jobs jobs"

flags=(-O2 -fPIC -fvisibility=hidden -DNDEBUG -D__LINUX__ -D_NO_ASYNCRTIMP -D_NO_PPLXIMP -D_GLIBCXX_USE_CXX11_ABI="$abi"
       -I"$src" -I"$torch/include" -I"$torch/include/torch/csrc/api/include" -w)
export out log
compile() {   # compile SOURCE FLAGS...: one object, or the file's name and first errors in the log
  local f=$1; shift
  local o="$out/obj/$(basename "$f").o" cc=g++ std=-std=c++17
  [[ $f == *.c ]] && cc=gcc std=-std=c11
  if ! "$cc" "$std" "$@" -c "$f" -o "$o" 2>"$o.err"; then
    { echo "== $f failed:"; grep -m 5 'error' "$o.err"; } >>"$log"
    rm -f "$o"
  fi
}
export -f compile
started=$SECONDS
find "$src/LibTorchSharp" -name '*.cpp' -o -name '*.c' | sort |
  xargs -P "$jobs" -I{} bash -c 'compile "$@"' _ {} "${flags[@]}"
objects=("$out"/obj/*.o)
failed=$(grep -c '^== ' "$log")
echo "build-libtorchsharp: compiled $((${#objects[@]})) files in $((SECONDS - started)) s; failed: $failed"
[ "$failed" = 0 ] || grep '^== ' "$log" | sed 's/^== /  left out: /'
g++ -shared -o "$out/libLibTorchSharp.so" "${objects[@]}" -Wl,-Bsymbolic -Wl,-Bsymbolic-functions -Wl,--build-id=sha1 \
    -L"$torch/lib" -ltorch -ltorch_cpu -lc10 -Wl,-rpath,"$torch/lib" 2>>"$log" ||
  { echo "build-libtorchsharp: linking failed ($log)" >&2; tail -5 "$log" >&2; exit 1; }
echo "build-libtorchsharp: $out/libLibTorchSharp.so; run with LD_LIBRARY_PATH=$torch/lib"
