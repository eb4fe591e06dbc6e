# Sourced by bench/throughput.sh and bench/gpu.sh. find_torch_python sets $python to a python3 that imports torch
# ($PYTHON, then python3, then /usr/bin/python3) and $torch_version, $torch_cuda ("available" or "not available")
# from one import (importing torch takes seconds); or $python="" with the reason in $python_note. Where none has
# torch and this runs as root with apt-get, it installs Debian's python3-torch with OpenBLAS first (BENCH_NO_INSTALL=1:
# never).

_apt_install() {
  # --no-install-recommends: the recommended libtorch-dev would put a second LibTorch (1.13) where TorchSharp's
  # native loader can find it. A fresh machine may have no package lists yet: update once and retry.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; }
}

# Prints "VERSION CUDA_VERSION CUDA_AVAILABLE(0/1) GENERIC_BLAS(0/1)" if $1 imports torch; fails otherwise.
_torch_facts() {
  command -v "$1" >/dev/null 2>&1 && "$1" -c 'import torch
print(torch.__version__, torch.version.cuda, int(torch.cuda.is_available()), int("BLAS_INFO=generic" in torch.__config__.show()))' 2>/dev/null
}

find_torch_python() {
  python="" python_note="" torch_version="" torch_cuda=""
  local candidate facts=""
  for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if facts=$(_torch_facts "$candidate"); then python=$(command -v "$candidate"); break; fi
  done
  if [ -z "$python" ]; then
    if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "no python3 with torch: installing Debian's python3-torch and libopenblas0-pthread" >&2
      if _apt_install python3-torch libopenblas0-pthread && facts=$(_torch_facts /usr/bin/python3); then
        python=/usr/bin/python3
      else
        python_note="PyTorch baseline not run: no python3 with torch, and apt-get install python3-torch libopenblas0-pthread failed"
      fi
    else
      python_note="PyTorch baseline not run: no python3 with torch (tried \$PYTHON, python3, /usr/bin/python3); set PYTHON, or run as root to install Debian's python3-torch"
    fi
  fi
  [ -n "$python" ] || return 0
  local cuda_version available generic
  read -r torch_version cuda_version available generic <<<"$facts"
  torch_cuda="CUDA $cuda_version $([ "$available" = 1 ] && echo available || echo not available)"
  # Debian's torch calls the system's generic libblas.so.3. With only the reference BLAS behind it, its GEMMs run
  # ~40× slower than with OpenBLAS: no baseline anyone would use.
  if [ "$generic" = 1 ]; then
    local blas; blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
    if [[ "$blas" != *openblas* ]]; then
      if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "PyTorch's BLAS is the reference libblas ($blas): installing libopenblas0-pthread" >&2
        _apt_install libopenblas0-pthread || python_note="PyTorch runs on the slow reference BLAS ($blas): installing libopenblas0-pthread failed"
      else
        python_note="PyTorch runs on the slow reference BLAS ($blas): install libopenblas0-pthread for a fair baseline"
      fi
    fi
  fi
}
