using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// The shapes of published models, so a plan can be made for "7B llama" or "8B qwen3" without the
/// checkpoint: Qwen3 from its config.json files (FACTS.md §Qwen3 sizes), Llama 2 7B/13B/70B, LLaMA 30B
/// (the 7/13/30/70B rows of LLaMA-Factory's memory table) and Llama 3.x 1B/3B/8B from theirs.
/// </summary>
public static class ReferenceModels
{
    private sealed record Shape(string Arch, string Size, int Hidden, int Layers, int Heads, int KvHeads, int? HeadDim, int Intermediate, int Vocab, bool Tied);

    private static readonly Shape[] Shapes =
    [
        new("qwen3", "0.6B", 1024, 28, 16, 8, 128, 3072, 151936, true),
        new("qwen3", "1.7B", 2048, 28, 16, 8, 128, 6144, 151936, true),
        new("qwen3", "4B", 2560, 36, 32, 8, 128, 9728, 151936, true),
        new("qwen3", "8B", 4096, 36, 32, 8, 128, 12288, 151936, false),
        new("qwen3", "14B", 5120, 40, 40, 8, 128, 17408, 151936, false),
        new("qwen3", "32B", 5120, 64, 64, 8, 128, 25600, 151936, false),
        new("llama", "1B", 2048, 16, 32, 8, 64, 8192, 128256, true),
        new("llama", "3B", 3072, 28, 24, 8, 128, 8192, 128256, true),
        new("llama", "7B", 4096, 32, 32, 32, null, 11008, 32000, false),
        new("llama", "8B", 4096, 32, 32, 8, null, 14336, 128256, false),
        new("llama", "13B", 5120, 40, 40, 40, null, 13824, 32000, false),
        new("llama", "30B", 6656, 60, 52, 52, null, 17920, 32000, false),
        new("llama", "70B", 8192, 80, 64, 8, null, 28672, 32000, false),
    ];

    public static IReadOnlyList<string> Architectures { get; } = ["qwen3", "llama"];

    /// <summary>The sizes known for an architecture, e.g. 0.6B … 32B for qwen3.</summary>
    public static IReadOnlyList<string> Sizes(string arch) => Shapes.Where(s => s.Arch == arch).Select(s => s.Size).ToList();

    /// <summary>
    /// The config of <paramref name="size"/> ("7B", "0.6b", "8") for <paramref name="arch"/>; an unknown
    /// architecture or size is an ArgumentException listing the known ones.
    /// </summary>
    public static ModelConfig Config(string size, string arch)
    {
        var a = arch.Trim().ToLowerInvariant();
        if (!Architectures.Contains(a))
            throw new ArgumentException($"--arch '{arch}' is not one of {string.Join(", ", Architectures)}");
        var normalised = size.Trim().ToUpperInvariant();
        if (!normalised.EndsWith('B'))
            normalised += "B";
        var shape = Shapes.FirstOrDefault(s => s.Arch == a && s.Size == normalised)
            ?? throw new ArgumentException($"no {a} model of size '{size}' is known; sizes: {string.Join(", ", Sizes(a))}");
        return ModelConfigReader.Parse(Json(shape), $"{a} {shape.Size} (reference shape)");
    }

    /// <summary>Parses "7B" / "0.6B" / "500M" into a parameter count.</summary>
    public static double ParseCount(string size)
    {
        var s = size.Trim().ToUpperInvariant();
        var multiplier = s.EndsWith('B') ? 1e9 : s.EndsWith('M') ? 1e6 : 1e9;
        var number = s.TrimEnd('B', 'M');
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n * multiplier
            : throw new ArgumentException($"'{size}' is not a model size such as 7B or 0.6B");
    }

    private static JsonObject Json(Shape s)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(s.Arch == "qwen3" ? "Qwen3ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = s.Arch,
            ["vocab_size"] = s.Vocab,
            ["hidden_size"] = s.Hidden,
            ["intermediate_size"] = s.Intermediate,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["max_position_embeddings"] = s.Arch == "qwen3" ? 40960 : 4096,
            ["rms_norm_eps"] = s.Arch == "qwen3" ? 1e-6 : 1e-5,
            ["rope_theta"] = s.Arch == "qwen3" ? 1000000.0 : 10000.0,
            ["tie_word_embeddings"] = s.Tied,
            ["torch_dtype"] = "bfloat16",
        };
        if (s.HeadDim is { } hd)
            json["head_dim"] = hd;
        return json;
    }
}
