// Runs the real llama.cpp (node-llama-cpp's prebuilt CPU build) on a GGUF for FineTuneAgent's
// compatibility tests. Reads one JSON request from stdin, writes one JSON response to stdout:
//   request:  { model: "a.gguf", lora?: "adapter.gguf", logprobs?: [ids...], generate?: { prompt: [ids...], maxTokens: n },
//               tokenize?: ["text", ...] }
//   response: { logprobs?: [base64 Float32Array per position: log-softmax over the vocabulary],
//               generated?: [ids...], tokens?: [[ids...] per text], info: { ... what llama.cpp read back } }
// Log-probabilities come from llama.cpp's full-vocabulary softmax of the raw logits (greedy sampler,
// no top-k/top-p), so they equal log_softmax(logits) of the model.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: req.model, gpuLayers: 0 });
const out = {
    info: {
        architecture: model.fileInfo.metadata.general.architecture,
        typeDescription: model.typeDescription,
        trainContextSize: model.trainContextSize,
        embeddingVectorSize: model.embeddingVectorSize,
        vocabularyType: model.vocabularyType,
        bos: model.tokens.bos, eos: model.tokens.eos, eot: model.tokens.eot,
        shouldPrependBosToken: model.tokens.shouldPrependBosToken,
        chatTemplate: model.fileInfo.metadata.tokenizer?.chat_template ?? null,
    },
};

if (req.tokenize)
    out.tokens = req.tokenize.map(t => Array.from(model.tokenize(t, true)));

async function withSequence(fn) {
    // An F32 KV cache and no flash attention: llama.cpp's defaults (F16 cache) would round keys and
    // values and hide whether the weights themselves are right.
    const context = await model.createContext({ contextSize: 256, batchSize: 256, sequences: 1,
        flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
        ...(req.lora ? { lora: { adapters: [{ filePath: req.lora, scale: 1 }] } } : {}) });
    try { return await fn(context.getSequence()); } finally { await context.dispose(); }
}

if (req.logprobs) {
    out.logprobs = await withSequence(async seq => {
        const input = req.logprobs.map(t => [t, { generateNext: { probabilities: true } }]);
        const res = await seq.controlledEvaluate(input);
        const n = model.tokens.vocabSize ?? model.fileInfo.metadata.tokenizer.ggml.tokens.length;
        return res.map(r => {
            const lp = new Float32Array(n).fill(-Infinity);
            for (const [tok, p] of r.next.probabilities) lp[tok] = Math.log(p);
            return Buffer.from(lp.buffer).toString("base64");
        });
    });
}

if (req.generate) {
    out.generated = await withSequence(async seq => {
        const tokens = [];
        let input = req.generate.prompt;
        for (let i = 0; i < req.generate.maxTokens; i++) {
            const items = input.map((t, j) => j === input.length - 1 ? [t, { generateNext: { token: true } }] : t);
            const res = await seq.controlledEvaluate(items);
            const next = res[input.length - 1].next.token;
            tokens.push(next);
            input = [next];
        }
        return tokens;
    });
}

await model.dispose();
await llama.dispose();
process.stdout.write(JSON.stringify(out));
