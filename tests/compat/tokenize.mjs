// Reference tokenizer for FineTuneAgent's parity tests: @huggingface/tokenizers (the JS port of
// HF tokenizers) run over the same tokenizer.json / tokenizer_config.json as our C# code.
//
//   node tokenize.mjs <request.json>          prints a JSON response on stdout
//   node tokenize.mjs --bench <corpus.jsonl> <tokenizer.json> <tokenizer_config.json>
//                                            encodes each row (a JSON string per line) without
//                                            special tokens, prints tokens/s
//
// Request:  { "jobs": [ { "tokenizer": path, "config": path,
//                         "texts": [string, ...],          encoded with and without special tokens
//                         "decode": [[id, ...], ...],      decoded with and without skipping specials
//                         "decodeBytes": [[byte, ...], ...], as "decode", for the ids of these bytes'
//                                                          byte tokens (byte-level or <0xXX>), each also
//                                                          with a special token in the middle
//                         "preTokenize": [string, ...] } ], run through the pre-tokenizer alone
//             "normalize": [ { "form": "NFC", "texts": [string, ...] } ] }
// Response: { "jobs": [ { "encode": [ { "ids": [...], "idsNoSpecial": [...],
//                                       "decoded": str, "decodedSkip": str } ],
//                         "decode": [ { "ids": [...], "text": str, "textSkip": str, "textCleanUp": str } ],
//                         "preTokens": [[string, ...], ...] or null without a pre-tokenizer } ],
//             "normalize": [ [string, ...] ] }   String.prototype.normalize, which the NFC normalizer uses
// Decoding uses clean_up_tokenization_spaces=false except "textCleanUp", which uses the
// config's own setting (as transformers does).
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

function load(tokenizerPath, configPath) {
    const json = JSON.parse(readFileSync(tokenizerPath, "utf8"));
    const config = configPath ? JSON.parse(readFileSync(configPath, "utf8")) : {};
    return new Tokenizer(json, config);
}

function decode(tokenizer, ids, options) {
    // The JS port throws on an empty id list; HF tokenizers returns "".
    return ids.length === 0 ? "" : tokenizer.decode(ids, options);
}

// GPT-2's bytes_to_unicode.
function byteLevelChar(b) {
    const printable = (x) => (x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff);
    if (printable(b)) return String.fromCharCode(b);
    let n = 0;
    for (let x = 0; x < b; x++) if (!printable(x)) n++;
    return String.fromCharCode(256 + n);
}

// Id lists for decoding: byte tokens that may cut UTF-8 sequences, special tokens around text.
function decodeInputs(tokenizer, job) {
    const byteFallback = tokenizer.tokenizer.model.byte_fallback === true;
    const byteId = (b) => {
        const token = byteFallback ? `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>` : byteLevelChar(b);
        const id = tokenizer.token_to_id(token);
        if (id === undefined) throw new Error(`no token for byte ${b}`);
        return id;
    };
    const special = tokenizer.added_tokens.filter((t) => t.special).slice(0, 2).map((t) => t.id);
    const hello = tokenizer.encode("Hello there", { add_special_tokens: false }).ids;
    const inputs = [...(job.decode ?? [])];
    for (const bytes of job.decodeBytes ?? []) {
        const ids = bytes.map(byteId);
        inputs.push(ids);
        if (ids.length > 1) inputs.push([ids[0], special[0], ...ids.slice(1)]);
    }
    if (job.decodeBytes) {
        inputs.push([...special, ...hello, ...special]);
        inputs.push([...hello, special[0], ...hello]);
    }
    return inputs;
}

function runJob(job) {
    const tokenizer = load(job.tokenizer, job.config);
    const plain = { clean_up_tokenization_spaces: false };
    const skip = { skip_special_tokens: true, clean_up_tokenization_spaces: false };
    const encode = (job.texts ?? []).map((text) => {
        const ids = tokenizer.encode(text, { add_special_tokens: true }).ids;
        const idsNoSpecial = tokenizer.encode(text, { add_special_tokens: false }).ids;
        return {
            ids,
            idsNoSpecial,
            decoded: decode(tokenizer, idsNoSpecial, plain),
            decodedSkip: decode(tokenizer, ids, skip),
        };
    });
    const decodes = decodeInputs(tokenizer, job).map((ids) => ({
        ids,
        text: decode(tokenizer, ids, plain),
        textSkip: decode(tokenizer, ids, skip),
        textCleanUp: decode(tokenizer, ids, {}),
    }));
    const preTokens = tokenizer.pre_tokenizer
        ? (job.preTokenize ?? []).map((text) => tokenizer.pre_tokenizer(text, { section_index: 0 }))
        : null;
    return { encode, decode: decodes, preTokens };
}

function bench(corpusPath, tokenizerPath, configPath) {
    const tokenizer = load(tokenizerPath, configPath);
    const rows = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
    const chars = rows.reduce((n, r) => n + r.length, 0);
    // A warm-up over a slice (JIT), then the timed pass over everything.
    for (const row of rows.slice(0, 200)) tokenizer.encode(row, { add_special_tokens: false });
    const start = process.hrtime.bigint();
    let tokens = 0;
    for (const row of rows) tokens += tokenizer.encode(row, { add_special_tokens: false }).ids.length;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(JSON.stringify({ rows: rows.length, tokens, chars, seconds, tokensPerSecond: tokens / seconds }));
}

const args = process.argv.slice(2);
if (args[0] === "--bench") {
    bench(args[1], args[2], args[3]);
} else if (args.length === 1) {
    const request = JSON.parse(readFileSync(args[0], "utf8"));
    const response = {
        jobs: (request.jobs ?? []).map(runJob),
        normalize: (request.normalize ?? []).map((n) => n.texts.map((t) => t.normalize(n.form))),
    };
    process.stdout.write(JSON.stringify(response));
} else {
    console.error("usage: node tokenize.mjs <request.json> | --bench <corpus.jsonl> <tokenizer.json> <config.json>");
    process.exit(2);
}
