using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>The real llama.cpp, through tests/compat/gguf/llama.mjs (node-llama-cpp's prebuilt CPU build).</summary>
internal static class LlamaCpp
{
    public sealed record Result(float[][]? LogProbs, int[]? Generated, int[][]? Tokens, JsonObject Info);

    public static Result Run(string model, string? lora = null, int[]? logprobs = null, (int[] Prompt, int MaxTokens)? generate = null, string[]? tokenize = null)
    {
        var request = new JsonObject { ["model"] = model };
        if (lora is not null)
            request["lora"] = lora;
        if (logprobs is not null)
            request["logprobs"] = new JsonArray(logprobs.Select(i => (JsonNode)i).ToArray());
        if (generate is { } g)
            request["generate"] = new JsonObject { ["prompt"] = new JsonArray(g.Prompt.Select(i => (JsonNode)i).ToArray()), ["maxTokens"] = g.MaxTokens };
        if (tokenize is not null)
            request["tokenize"] = new JsonArray(tokenize.Select(s => (JsonNode)s).ToArray());
        var folder = CompatProcess.Compat("gguf");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "node-llama-cpp")))
            throw new InvalidOperationException($"{folder}/node_modules missing: run scripts/setup.sh");
        var output = CompatProcess.Run("node", [Path.Combine(folder, "llama.mjs")], request.ToJsonString(), folder);
        var json = JsonNode.Parse(output)!.AsObject();
        return new Result(
            json["logprobs"]?.AsArray().Select(n => FromBase64(n!.GetValue<string>())).ToArray(),
            json["generated"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray(),
            json["tokens"]?.AsArray().Select(a => a!.AsArray().Select(n => n!.GetValue<int>()).ToArray()).ToArray(),
            json["info"]!.AsObject());
    }

    private static float[] FromBase64(string s)
    {
        var bytes = Convert.FromBase64String(s);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
