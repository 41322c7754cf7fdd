using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTuneAgent.Abstractions.Methods;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Lora;

/// <summary>
/// LoRA's settings under PEFT's names (r, lora_alpha, lora_dropout, target_modules, use_rslora,
/// init_lora_weights, rank_pattern, alpha_pattern) plus LoRA+'s loraplus_lr_ratio. Defaults are
/// LLaMA-Factory's: r 8, alpha 16 (2r), no dropout, every linear projection.
/// </summary>
public sealed record LoraSettings(string Method) : MethodSettings(Method)
{
    public int Rank { get; init; } = 8;

    public double Alpha { get; init; } = 16;

    public double Dropout { get; init; }

    public TargetModules Targets { get; init; } = TargetModules.AllLinearLayers;

    public bool UseRsLora { get; init; }

    public LoraInit Init { get; init; } = LoraInit.Default;

    public bool UseDora { get; init; }

    /// <summary>LoRA+: B's learning rate is this multiple of A's (PEFT's loraplus_lr_ratio); null: one rate.</summary>
    public double? LoraPlusRatio { get; init; }

    /// <summary>Per-module rank by PEFT's pattern rule (a key matches a path ending in "." + key, as a regex).</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>The adapter parameters' dtype; fp32 as PEFT keeps adapters over a bf16 base.</summary>
    public ScalarType AdapterDtype { get; init; } = ScalarType.Float32;

    public int RankFor(string modulePath) => Pattern(RankPattern, modulePath) is { } key ? RankPattern[key] : Rank;

    public double AlphaFor(string modulePath) => Pattern(AlphaPattern, modulePath) is { } key ? AlphaPattern[key] : Alpha;

    public double ScalingFor(string modulePath)
    {
        var r = RankFor(modulePath);
        var alpha = AlphaFor(modulePath);
        return UseRsLora ? alpha / Math.Sqrt(r) : alpha / r;
    }

    private static string? Pattern<T>(IReadOnlyDictionary<string, T> patterns, string path) =>
        patterns.Keys.FirstOrDefault(k => Regex.IsMatch(path, $"^(.*\\.)?({k})$"));

    /// <summary>Reads the LoRA keys from <paramref name="reader"/>; the caller rejects unknown keys after reading its own.</summary>
    public static LoraSettings Read(SettingsReader reader, string method, bool useDora)
    {
        var s = new LoraSettings(method)
        {
            Rank = reader.Int("r", 8, min: 1, max: 65536),
            Dropout = reader.Double("lora_dropout", 0, 0, 1, maxExclusive: true),
            UseRsLora = reader.Bool("use_rslora", false),
            UseDora = useDora,
            LoraPlusRatio = reader.OptionalDouble("loraplus_lr_ratio", min: double.Epsilon),
        };
        s = s with { Alpha = reader.Double("lora_alpha", 2.0 * s.Rank, min: double.Epsilon) };
        if (reader.Node("target_modules") is { } targets)
            s = s with { Targets = TargetModules.FromJson(targets, m => reader.Error("target_modules", m)) };
        if (reader.Node("init_lora_weights") is { } init)
        {
            // A boolean, or PEFT's strings; "true"/"false" as strings too (HOCON and the CLI give strings).
            var text = init is JsonValue v && v.TryGetValue<bool>(out var flag) ? (flag ? "true" : "false") : init is JsonValue t && t.TryGetValue<string>(out var str) ? str : null;
            s = s with
            {
                Init = text switch
                {
                    "true" => LoraInit.Default,
                    "false" => LoraInit.Random,
                    "gaussian" => LoraInit.Gaussian,
                    "pissa" => LoraInit.Pissa,
                    not null when text.StartsWith("pissa_niter_", StringComparison.Ordinal) =>
                        throw reader.Error("init_lora_weights", $"\"{text}\" (randomised SVD) is not supported; use \"pissa\" (full SVD, exact)"),
                    _ => throw reader.Error("init_lora_weights", $"expected true, false, \"gaussian\" or \"pissa\", got {init.ToJsonString()} (olora, corda, loftq and eva change the base in ways not reproduced here)"),
                },
            };
        }
        var useDoraNode = reader.Node("use_dora");
        if (useDoraNode is not null && reader.Bool("use_dora", useDora) != useDora)
            throw reader.Error("use_dora", useDora ? "the dora method always uses DoRA" : "choose the dora method for DoRA");
        s = s with
        {
            RankPattern = ReadPattern(reader, "rank_pattern", n => SettingsReader.TryNumber(n, out var d) && d >= 1 && d == Math.Floor(d) ? (int?)(int)d : null),
            AlphaPattern = ReadPattern(reader, "alpha_pattern", n => SettingsReader.TryNumber(n, out var d) && d > 0 ? (double?)d : null),
        };
        var dtype = reader.String("adapter_dtype", "float32", ["float32", "bfloat16", "float16"]);
        return s with { AdapterDtype = dtype switch { "bfloat16" => ScalarType.BFloat16, "float16" => ScalarType.Float16, _ => ScalarType.Float32 } };
    }

    private static Dictionary<string, T> ReadPattern<T>(SettingsReader reader, string field, Func<JsonNode?, T?> value) where T : struct
    {
        var result = new Dictionary<string, T>();
        if (reader.Node(field) is not { } node)
            return result;
        if (node is not JsonObject obj)
            throw reader.Error(field, $"expected an object of module pattern to value, got {node.ToJsonString()}");
        foreach (var (key, v) in obj)
        {
            try
            {
                _ = new Regex(key);
            }
            catch (ArgumentException e)
            {
                throw reader.Error($"{field}.{key}", $"not a valid regular expression: {e.Message}");
            }
            result[key] = value(v) ?? throw reader.Error($"{field}.{key}", $"invalid value {v?.ToJsonString() ?? "null"}");
        }
        return result;
    }

    public override JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["r"] = Rank,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = Dropout,
            ["target_modules"] = Targets.ToJson(),
            ["use_rslora"] = UseRsLora,
            ["init_lora_weights"] = Init switch
            {
                LoraInit.Default => JsonValue.Create(true),
                LoraInit.Random => JsonValue.Create(false),
                LoraInit.Gaussian => JsonValue.Create("gaussian"),
                _ => JsonValue.Create("pissa"),
            },
            ["use_dora"] = UseDora,
            ["adapter_dtype"] = AdapterDtype switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" },
        };
        if (LoraPlusRatio is { } ratio)
            o["loraplus_lr_ratio"] = ratio;
        if (RankPattern.Count > 0)
            o["rank_pattern"] = new JsonObject(RankPattern.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        if (AlphaPattern.Count > 0)
            o["alpha_pattern"] = new JsonObject(AlphaPattern.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        return o;
    }
}
