using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.Methods.Freeze;

/// <summary>
/// Freeze (partial-parameter) tuning under LLaMA-Factory's names: freeze_trainable_layers (N > 0:
/// the last N decoder layers; N &lt; 0: the first |N|), freeze_trainable_modules ("all" or names
/// inside a layer such as "mlp", "self_attn", "q_proj"), freeze_extra_modules (embed_tokens,
/// lm_head, norm).
/// </summary>
public sealed record FreezeSettings() : MethodSettings("freeze")
{
    public static readonly IReadOnlyList<string> ExtraModuleNames = ["embed_tokens", "lm_head", "norm"];

    public int TrainableLayers { get; init; } = 2;

    /// <summary>Null: every module of the chosen layers.</summary>
    public IReadOnlyList<string>? TrainableModules { get; init; }

    public IReadOnlyList<string> ExtraModules { get; init; } = [];

    public static FreezeSettings Read(JsonObject? json)
    {
        var reader = new SettingsReader("freeze", json);
        var layers = reader.Int("freeze_trainable_layers", 2);
        if (layers == 0)
            throw reader.Error("freeze_trainable_layers", "0 trains no layer; use a positive count for the last layers, negative for the first");
        IReadOnlyList<string>? modules = null;
        if (reader.Node("freeze_trainable_modules") is { } m && !(m is JsonValue v && v.TryGetValue<string>(out var all) && all == "all"))
            modules = Names(reader, "freeze_trainable_modules", m);
        IReadOnlyList<string> extras = reader.Node("freeze_extra_modules") is { } e ? Names(reader, "freeze_extra_modules", e, allowEmpty: true) : [];
        foreach (var extra in extras)
            if (!ExtraModuleNames.Contains(extra))
                throw reader.Error("freeze_extra_modules", $"\"{extra}\" is not one of {string.Join(", ", ExtraModuleNames)}");
        reader.RejectUnknown();
        return new FreezeSettings { TrainableLayers = layers, TrainableModules = modules, ExtraModules = extras };
    }

    // A list, or LLaMA-Factory's comma-separated string. An empty extra-module list is "none" (what
    // ToJson writes, so saved settings read back); an empty list of trainable modules trains nothing.
    private static List<string> Names(SettingsReader reader, string field, JsonNode node, bool allowEmpty = false)
    {
        var names = node switch
        {
            JsonArray a => a.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var s) ? s : throw reader.Error(field, $"expected names, got {x?.ToJsonString() ?? "null"}")).ToList(),
            JsonValue v when v.TryGetValue<string>(out var s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            _ => throw reader.Error(field, $"expected a list of names, got {node.ToJsonString()}"),
        };
        if (names.Count == 0 && !allowEmpty)
            throw reader.Error(field, "no names given");
        return names;
    }

    /// <summary>The indices of the trainable decoder layers of a model with <paramref name="layerCount"/> layers.</summary>
    public IReadOnlyList<int> LayerIndices(int layerCount)
    {
        var n = Math.Abs(TrainableLayers);
        if (n > layerCount)
            throw new MethodSettingsException(Method, "freeze_trainable_layers", $"{TrainableLayers} asks for {n} layers but the model has {layerCount}");
        return TrainableLayers > 0 ? Enumerable.Range(layerCount - n, n).ToList() : Enumerable.Range(0, n).ToList();
    }

    /// <summary>Whether a parameter of a trainable layer (name relative to the layer: `mlp.up_proj.weight`) trains.</summary>
    public bool TrainsInLayer(string relativeName) =>
        TrainableModules is null || TrainableModules.Any(m => relativeName.StartsWith(m + ".", StringComparison.Ordinal) || relativeName.Contains("." + m + ".", StringComparison.Ordinal));

    public override JsonObject ToJson() => new()
    {
        ["freeze_trainable_layers"] = TrainableLayers,
        ["freeze_trainable_modules"] = TrainableModules is null ? "all" : new JsonArray(TrainableModules.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
        ["freeze_extra_modules"] = new JsonArray(ExtraModules.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
    };
}
