using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Which method plugin saved a folder, so its <see cref="IFineTuneMethod.Load"/> can read it: the method named in
/// fta_method.json (QLoRA, Freeze and Full write one), else a PEFT adapter_config.json (LoRA, or DoRA when
/// <c>use_dora</c> is true).
/// </summary>
public static class AdapterFolder
{
    public const string PeftConfigFile = "adapter_config.json";

    public static string MethodOf(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"adapter folder {directory} not found");
        var record = Path.Combine(directory, MethodRecord.FileName);
        if (File.Exists(record))
            return Read(record)["method"] is JsonValue v && v.TryGetValue<string>(out var method) && method.Length > 0
                ? method
                : throw new InvalidDataException($"{record}: field 'method': expected the method's name");
        var peft = Path.Combine(directory, PeftConfigFile);
        if (File.Exists(peft))
        {
            var config = Read(peft);
            if (config["peft_type"] is JsonValue t && t.TryGetValue<string>(out var type) && !string.Equals(type, "LORA", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{peft}: field 'peft_type': \"{type}\"; only LORA adapters (LoRA, DoRA) can be loaded");
            return config["use_dora"] is JsonValue d && d.TryGetValue<bool>(out var dora) && dora ? "dora" : "lora";
        }
        throw new InvalidDataException($"{directory}: holds neither {MethodRecord.FileName} nor {PeftConfigFile}; not an adapter saved by fta train or PEFT");
    }

    /// <summary>
    /// The base model folder the save records (PEFT's and fta_method.json's base_model_name_or_path), when it is a
    /// folder on this machine with a config.json; null otherwise (a hub name, a moved folder).
    /// </summary>
    public static string? RecordedBaseModel(string directory)
    {
        foreach (var file in new[] { MethodRecord.FileName, PeftConfigFile })
        {
            var path = Path.Combine(directory, file);
            if (File.Exists(path) && Read(path)["base_model_name_or_path"] is JsonValue v && v.TryGetValue<string>(out var b)
                && b.Length > 0 && File.Exists(Path.Combine(b, Checkpoint.ConfigFileName)))
                return b;
        }
        return null;
    }

    /// <summary>
    /// Fails when the save records a base model on this machine whose shape differs from <paramref name="config"/>'s:
    /// an adapter trained for another model, found before its tensors are read.
    /// </summary>
    public static void CheckBaseModel(string directory, ModelConfig config, string modelDirectory)
    {
        if (RecordedBaseModel(directory) is not { } recorded)
            return;
        var trained = ModelConfigReader.Load(Path.Combine(recorded, Checkpoint.ConfigFileName));
        if (Shape(trained) != Shape(config))
            throw new InvalidDataException(
                $"{directory} was trained on {recorded} ({Shape(trained)}), but the model in {modelDirectory} is {Shape(config)}: this adapter is for another model");
    }

    private static string Shape(ModelConfig c) =>
        $"{c.ModelType}, hidden {c.HiddenSize}, {c.NumHiddenLayers} layers, {c.NumAttentionHeads}/{c.NumKeyValueHeads} heads of {c.HeadDim}, intermediate {c.IntermediateSize}, vocabulary {c.VocabSize}";

    private static JsonObject Read(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }
}
