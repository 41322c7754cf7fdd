using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// The fields of a PEFT adapter_config.json that decide a LoRA module's scale: r, lora_alpha,
/// use_rslora, rank_pattern, alpha_pattern (a pattern key matches a module path as PEFT's
/// get_pattern_key does: ^(.*\.)?(key)$, first key in file order wins). Adapters GGUF cannot
/// carry (DoRA, trained biases, modules_to_save) are refused with the field that says so.
/// </summary>
public sealed record PeftLoraConfig(int Rank, double Alpha, bool UseRsLora, IReadOnlyList<KeyValuePair<string, int>> RankPattern, IReadOnlyList<KeyValuePair<string, double>> AlphaPattern)
{
    public const string FileName = "adapter_config.json";

    public int RankFor(string module) => Match(RankPattern, module) ?? Rank;

    public double AlphaFor(string module) => Match(AlphaPattern, module) ?? Alpha;

    /// <summary>PEFT's scaling of a module: alpha / r, or alpha / √r with rsLoRA.</summary>
    public double ScalingFor(string module, int rank) => AlphaFor(module) / (UseRsLora ? Math.Sqrt(rank) : rank);

    private static T? Match<T>(IReadOnlyList<KeyValuePair<string, T>> patterns, string module) where T : struct
    {
        foreach (var (key, value) in patterns)
            if (Regex.IsMatch(module, $"^(.*\\.)?({key})$"))
                return value;
        return null;
    }

    public static PeftLoraConfig Load(string adapterDir)
    {
        var path = Path.Combine(adapterDir, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no PEFT adapter config here", path);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        InvalidDataException Fail(string field, string message) => new($"{path}: field '{field}': {message}");
        if (json["peft_type"]?.ToString() != "LORA")
            throw Fail("peft_type", $"\"{json["peft_type"]}\" is not a LoRA adapter (expected \"LORA\")");
        if (json["use_dora"] is JsonValue dora && dora.GetValue<bool>())
            throw Fail("use_dora", "true: llama.cpp has no DoRA adapters (its adapter loader takes only lora_a/lora_b pairs, and DoRA's column-norm rescaling is not a low-rank delta); merge the adapter into the base and export the merged model to GGUF instead");
        if (json["bias"] is JsonValue bias && bias.ToString() != "none")
            throw Fail("bias", $"\"{bias}\": GGUF LoRA adapters carry no biases");
        if (json["modules_to_save"] is JsonArray { Count: > 0 } mts)
            throw Fail("modules_to_save", $"{mts.ToJsonString()}: GGUF LoRA adapters carry no full module copies");
        if (json["fan_in_fan_out"] is JsonValue fifo && fifo.GetValue<bool>())
            throw Fail("fan_in_fan_out", "true (Conv1D layout) is not used by Qwen3 or Llama");
        var rank = json["r"] is JsonValue r && r.TryGetValue<int>(out var rv) && rv > 0 ? rv : throw Fail("r", $"\"{json["r"]}\" is not a positive integer");
        var alpha = json["lora_alpha"] is null ? 8.0 : json["lora_alpha"] is JsonValue a && a.TryGetValue<double>(out var av) ? av : throw Fail("lora_alpha", "not a number");
        var rsLora = json["use_rslora"] is JsonValue rs && rs.GetValue<bool>();
        return new PeftLoraConfig(rank, alpha, rsLora,
            Patterns(json, "rank_pattern", n => n is JsonValue v && v.TryGetValue<int>(out var i) && i > 0 ? i : throw Fail("rank_pattern", $"{n?.ToJsonString()} is not a positive integer")),
            Patterns(json, "alpha_pattern", n => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw Fail("alpha_pattern", $"{n?.ToJsonString()} is not a number")));
    }

    private static List<KeyValuePair<string, T>> Patterns<T>(JsonObject json, string field, Func<JsonNode?, T> value) =>
        json[field] is JsonObject o ? o.Select(kv => KeyValuePair.Create(kv.Key, value(kv.Value))).ToList() : [];
}
