using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// Everything a run needs, saved with the run (run.json) and in every checkpoint (run_config.json) so
/// that resuming needs nothing else. <see cref="ModelDirectory"/> null means the built-in tiny Qwen3
/// (random weights from <see cref="BuiltInSeed"/>); <see cref="Datasets"/> empty means the bundled samples.
/// </summary>
public sealed record TrainRequest
{
    public const string FileName = "run_config.json";

    public string RunId { get; init; } = RunStore.NewId();

    public string? ModelDirectory { get; init; }

    public int BuiltInSeed { get; init; }

    /// <summary>Data files (.json/.jsonl, Alpaca or ShareGPT by content), dataset_info.json files (all their entries) or dataset_info names.</summary>
    public IReadOnlyList<string> Datasets { get; init; } = [];

    /// <summary>The folder whose dataset_info.json resolves dataset names (default: the bundled samples).</summary>
    public string? DatasetDirectory { get; init; }

    /// <summary>lora, qlora, dora, freeze, full; "auto" is resolved before the request is stored.</summary>
    public string Method { get; init; } = "lora";

    /// <summary>Why this method (e.g. what auto picked).</summary>
    public string? MethodNote { get; init; }

    public JsonObject? MethodSettings { get; init; }

    /// <summary>The template by name (default: the one handling the model's model_type).</summary>
    public string? Template { get; init; }

    public required string OutputDirectory { get; init; }

    public TrainingOptions Options { get; init; } = new();

    /// <summary>Evaluation after training, on the held-out rows (on by default when there is a validation split).</summary>
    public EvaluateAfterTraining Evaluation { get; init; } = new();

    /// <summary>Exports after training; null: none.</summary>
    public ExportAfterTraining? Export { get; init; }

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["run_id"] = RunId,
            ["model"] = ModelDirectory,
            ["built_in_seed"] = BuiltInSeed,
            ["datasets"] = new JsonArray(Datasets.Select(d => (JsonNode?)d).ToArray()),
            ["dataset_dir"] = DatasetDirectory,
            ["method"] = Method,
            ["method_note"] = MethodNote,
            ["method_settings"] = MethodSettings?.DeepClone(),
            ["template"] = Template,
            ["output_dir"] = OutputDirectory,
            ["training"] = TrainingOptionsJson.Write(Options),
            ["evaluation"] = Evaluation.ToJson(),
            ["export"] = Export?.ToJson(),
        };
        return json;
    }

    public static TrainRequest FromJson(JsonObject json, string source)
    {
        try
        {
            return new TrainRequest
            {
                RunId = Text(json, "run_id") ?? throw new InvalidDataException($"{source}: run_id missing"),
                ModelDirectory = Text(json, "model"),
                BuiltInSeed = json["built_in_seed"]?.GetValue<int>() ?? 0,
                Datasets = json["datasets"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [],
                DatasetDirectory = Text(json, "dataset_dir"),
                Method = Text(json, "method") ?? "lora",
                MethodNote = Text(json, "method_note"),
                MethodSettings = json["method_settings"]?.AsObject().DeepClone().AsObject(),
                Template = Text(json, "template"),
                OutputDirectory = Text(json, "output_dir") ?? throw new InvalidDataException($"{source}: output_dir missing"),
                Options = TrainingOptionsJson.Read(json["training"]?.AsObject().DeepClone().AsObject()),
                Evaluation = EvaluateAfterTraining.FromJson(json["evaluation"] as JsonObject),
                Export = ExportAfterTraining.FromJson(json["export"] as JsonObject),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            throw new InvalidDataException($"{source}: malformed run configuration: {e.Message}", e);
        }
    }

    public static TrainRequest Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
        var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
        return FromJson(node, path);
    }

    private static string? Text(JsonObject json, string key) => json[key] is JsonValue v ? v.GetValue<string>() : null;
}
