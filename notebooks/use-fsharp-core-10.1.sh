#!/usr/bin/env bash
# Lets charts render in VS Code's .NET kernel (and dotnet-repl): copies FSharp.Core 10.1 over the 10.0 copy those tools
# ship. Plotly.NET 6 is built against FSharp.Core 10.1; the tools load their own 10.0 first, so without this a chart cell
# fails with MissingMethodException (Giraffe.ViewEngine ... get__id) or "Could not load FSharp.Core, Version=10.1.0.0".
# FSharp.Core is backward compatible, so the tools keep working. Idempotent: a tool already patched is left alone, and
# the original is kept beside it as FSharp.Core.dll.orig (copy it back to undo).
#
# usage: notebooks/use-fsharp-core-10.1.sh [EXTRA_TOOL_FOLDER ...]
# Needs the runner's Release build (dotnet build notebooks/runner -c Release), whose FSharp.Core.dll is the one copied.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source_dll="$repo/artifacts/bin/OptNeurons.Notebooks/release/FSharp.Core.dll"
if [[ ! -f "$source_dll" ]]; then
  echo "error: $source_dll not found; run: dotnet build notebooks/runner -c Release" >&2
  exit 1
fi

packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
shopt -s nullglob
folders=(
  "$packages"/microsoft.dotnet-interactive/*/tools/*/any                                    # VS Code's Polyglot Notebooks kernel
  "$HOME"/.dotnet/tools/.store/microsoft.dotnet-interactive/*/microsoft.dotnet-interactive/*/tools/*/any   # dotnet tool install -g
  "$HOME"/.dotnet/tools/.store/dotnet-repl/*/dotnet-repl/*/tools/*/any                      # dotnet-repl
  "$@"
)
patched=0
for folder in "${folders[@]}"; do
  target="$folder/FSharp.Core.dll"
  [[ -f "$target" ]] || continue
  if cmp -s "$source_dll" "$target"; then
    echo "already FSharp.Core 10.1: $folder"
    continue
  fi
  [[ -f "$target.orig" ]] || cp "$target" "$target.orig"
  cp "$source_dll" "$target"
  echo "patched: $folder"
  patched=$((patched + 1))
done
if [[ ${#folders[@]} -eq 0 ]]; then   # nullglob drops the patterns that matched nothing
  echo "no .NET Interactive tool found; open a .dib in VS Code once (it installs the kernel), then run this again," >&2
  echo "or pass the tool's folder (the one holding FSharp.Core.dll) as an argument." >&2
  exit 1
fi
echo "$patched folder(s) patched. Restart the notebook kernel."
