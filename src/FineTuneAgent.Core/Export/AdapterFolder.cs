using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Core.Export;

/// <summary>
/// What a method saved in a folder, read from its marker files without loading any weights: a PEFT
/// adapter (adapter_config.json: lora, or dora when use_dora) — with fta_method.json naming qlora when
/// it was trained over a quantized base — or a Freeze / Full save (fta_method.json and its weights).
/// </summary>
public sealed record AdapterFolder(string Path, string Method, bool UseDora, string? BaseModelNameOrPath, string WeightsFile)
{
    // PEFT's file names (the LoRA plugin's PeftAdapter writes the same; Core does not reference plugins).
    public const string PeftConfigFile = "adapter_config.json";
    public const string PeftWeightsFile = "adapter_model.safetensors";
    public const string PeftKeyPrefix = "base_model.model.";

    /// <summary>Whether the folder is a PEFT adapter (lora, dora, qlora); Freeze and Full train the model's own weights.</summary>
    public bool IsPeft => Method is "lora" or "dora" or "qlora";

    /// <summary>
    /// The method plugin that applies this folder to a full-precision base for merging: QLoRA's
    /// adapter is plain LoRA (or DoRA) over the original weights, so it merges into the
    /// unquantized base instead of the dequantized NF4 one.
    /// </summary>
    public string MergeMethod => Method == "qlora" ? (UseDora ? "dora" : "lora") : Method;

    public static AdapterFolder Read(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: adapter folder not found");
        var record = System.IO.Path.Combine(directory, MethodRecord.FileName);
        var peftConfig = System.IO.Path.Combine(directory, PeftConfigFile);
        if (File.Exists(record))
        {
            var json = ReadObject(record);
            var method = (json["method"] as JsonValue)?.TryGetValue<string>(out var m) == true ? m
                : throw new InvalidDataException($"{record}: field 'method': expected a method name");
            var basePath = Text(json, "base_model_name_or_path");
            if (method == "qlora")
            {
                if (!File.Exists(peftConfig))
                    throw new FileNotFoundException($"{peftConfig}: not found; {record} says this is a QLoRA adapter, which is a PEFT adapter beside it", peftConfig);
                return new AdapterFolder(directory, method, UseDoraOf(peftConfig), basePath ?? Text(ReadObject(peftConfig), "base_model_name_or_path"), PeftWeightsFile);
            }
            if (method is not ("freeze" or "full"))
                throw new InvalidDataException($"{record}: field 'method': \"{method}\" is not a method whose saves can be exported (freeze, full, qlora; lora and dora folders hold {PeftConfigFile})");
            var weights = Text(json, "weights") is { Length: > 0 } w && w.IndexOfAny(['/', '\\']) < 0 ? w
                : throw new InvalidDataException($"{record}: field 'weights': expected a file name");
            return new AdapterFolder(directory, method, false, basePath, weights);
        }
        if (File.Exists(peftConfig))
        {
            var useDora = UseDoraOf(peftConfig);
            return new AdapterFolder(directory, useDora ? "dora" : "lora", useDora, Text(ReadObject(peftConfig), "base_model_name_or_path"), PeftWeightsFile);
        }
        var hint = Directory.EnumerateDirectories(directory, "checkpoint-*").Any()
            ? " (it holds checkpoints: pass one of them, or the output folder of a finished run)"
            : "";
        throw new FileNotFoundException(
            $"{directory}: not an adapter folder: neither {PeftConfigFile} (a PEFT adapter: lora, dora, qlora) nor {MethodRecord.FileName} (freeze, full) is there{hint}", peftConfig);
    }

    /// <summary>
    /// Checks, from the safetensors headers alone, that this adapter fits the base checkpoint:
    /// every adapted module exists in the base with matching in/out features, every trained tensor
    /// (Freeze, Full) has the base tensor's shape. The error names the adapter file and tensor.
    /// </summary>
    public void CheckAgainst(ISafetensorsReader baseWeights, string modelDir)
    {
        var file = System.IO.Path.Combine(Path, WeightsFile);
        ISafetensorsReader weights;
        try
        {
            weights = Method == "full" ? Safetensors.Open(Path) : Safetensors.Open(file);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{file}: the {Method} weights are missing ({e.Message})", file, e);
        }
        using (weights)
        {
            if (IsPeft)
                CheckPeft(weights, file, baseWeights, modelDir);
            else
                CheckSameShapes(weights, Method == "full" ? Path : file, baseWeights, modelDir);
        }
    }

    private static void CheckPeft(ISafetensorsReader adapter, string file, ISafetensorsReader baseWeights, string modelDir)
    {
        if (adapter.Names.Count == 0)
            throw new InvalidDataException($"{file}: holds no LoRA tensors");
        foreach (var key in adapter.Names)
        {
            var (module, part) = SplitPeftKey(key) ?? throw new InvalidDataException(
                $"{file}: tensor '{key}' is not a LoRA A/B matrix or DoRA magnitude under '{PeftKeyPrefix}'");
            var baseName = module + ".weight";
            if (!baseWeights.Contains(baseName))
                throw new InvalidDataException($"{file}: tensor '{key}' adapts '{module}', but the base model {modelDir} has no '{baseName}' (is this adapter for another model?)");
            var w = baseWeights.GetInfo(baseName).Shape;
            var s = adapter.GetInfo(key).Shape;
            var fits = part switch
            {
                "A" => s.Count == 2 && s[1] == w[1],
                "B" => s.Count == 2 && s[0] == w[0],
                _ => s.Count == 1 && s[0] == w[0],
            };
            if (!fits)
                throw new InvalidDataException(
                    $"{file}: tensor '{key}' has shape [{string.Join(", ", s)}], which does not fit '{baseName}' of shape [{string.Join(", ", w)}] in the base model {modelDir} (is this adapter for another model?)");
        }
    }

    private static void CheckSameShapes(ISafetensorsReader trained, string file, ISafetensorsReader baseWeights, string modelDir)
    {
        foreach (var name in trained.Names)
        {
            // A Full save of an untied model has lm_head.weight; a tied base has none to compare with.
            if (!baseWeights.Contains(name))
            {
                if (name == "lm_head.weight")
                    continue;
                throw new InvalidDataException($"{file}: tensor '{name}' is not in the base model {modelDir} (is this save for another model?)");
            }
            var a = trained.GetInfo(name).Shape;
            var b = baseWeights.GetInfo(name).Shape;
            if (!a.SequenceEqual(b))
                throw new InvalidDataException($"{file}: tensor '{name}' has shape [{string.Join(", ", a)}], but the base model {modelDir} has [{string.Join(", ", b)}] (is this save for another model?)");
        }
    }

    /// <summary>`base_model.model.X.lora_A.weight` → (X, "A"); B and the DoRA magnitude likewise; null for anything else.</summary>
    internal static (string Module, string Part)? SplitPeftKey(string key)
    {
        if (!key.StartsWith(PeftKeyPrefix, StringComparison.Ordinal))
            return null;
        var rest = key[PeftKeyPrefix.Length..];
        foreach (var (suffix, part) in new[] { (".lora_A.weight", "A"), (".lora_B.weight", "B"), (".lora_magnitude_vector.weight", "m"), (".lora_magnitude_vector", "m") })
            if (rest.EndsWith(suffix, StringComparison.Ordinal))
                return (rest[..^suffix.Length], part);
        return null;
    }

    private static bool UseDoraOf(string peftConfig)
    {
        var json = ReadObject(peftConfig);
        var type = Text(json, "peft_type");
        if (type != "LORA")
            throw new InvalidDataException($"{peftConfig}: field 'peft_type': \"{type}\" is not a LoRA adapter (expected \"LORA\")");
        return json["use_dora"] is JsonValue d && d.TryGetValue<bool>(out var b) && b;
    }

    private static JsonObject ReadObject(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    private static string? Text(JsonObject json, string field) =>
        (json[field] as JsonValue)?.TryGetValue<string>(out var s) == true ? s : null;
}
