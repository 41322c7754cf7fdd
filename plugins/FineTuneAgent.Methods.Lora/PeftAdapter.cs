using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch.Modules;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Lora;

/// <summary>
/// PEFT's on-disk adapter: adapter_config.json (LoraConfig fields, keys sorted, indent 2) and
/// adapter_model.safetensors with keys `base_model.model.&lt;module path&gt;.lora_A.weight`,
/// `.lora_B.weight` and, for DoRA, `.lora_magnitude_vector` (metadata format=pt).
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    public const string KeyPrefix = "base_model.model.";

    /// <summary>Writes the adapter; PiSSA adapters are converted to plain LoRA of rank 2r over the original base, as PEFT does.</summary>
    public static void Save(LoraAdaptedModel adapted, string directory, AdapterSaveOptions options)
    {
        Directory.CreateDirectory(directory);
        var settings = adapted.Settings;
        var pissa = adapted.Layers.Values.Any(l => l.PissaStart is not null);
        using var scope = NewDisposeScope();
        var tensors = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, layer) in adapted.Layers)
        {
            var a = layer.lora_A.weight.detach();
            var b = layer.lora_B.weight.detach();
            if (pissa)
            {
                // ΔW relative to the original base is s·(B A − B₀ A₀) = s·[B, −B₀][A; A₀].
                var (a0, b0) = layer.PissaStart!.Value;
                a = cat([a, a0.to_type(a.dtype)], 0);
                b = cat([b, b0.to_type(b.dtype).neg()], 1);
            }
            tensors[$"{KeyPrefix}{path}.lora_A.weight"] = a.contiguous();
            tensors[$"{KeyPrefix}{path}.lora_B.weight"] = b.contiguous();
            if (layer.lora_magnitude_vector is { } m)
                tensors[$"{KeyPrefix}{path}.lora_magnitude_vector"] = m.detach();
        }
        var weightsPath = Path.Combine(directory, WeightsFile);
        Safetensors.Save(weightsPath, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var config = ConfigJson(adapted, options, pissa);
        AtomicFile.Write(Path.Combine(directory, ConfigFile), stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            config.WriteTo(writer);
        });
    }

    private static JsonObject ConfigJson(LoraAdaptedModel adapted, AdapterSaveOptions options, bool pissa)
    {
        var s = adapted.Settings;
        // A PiSSA adapter saved as LoRA has rank 2r; alpha grows so the scaling stays the same.
        var rankFactor = pissa ? 2 : 1;
        var alphaFactor = pissa ? (s.UseRsLora ? Math.Sqrt(2) : 2) : 1;
        JsonNode targets = s.Targets.Regex is { } regex
            ? JsonValue.Create(regex)!
            : new JsonArray(adapted.Layers.Keys.Select(p => p[(p.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
        var fields = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(s.AlphaPattern.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Number(kv.Value * alphaFactor)))),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = options.BaseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = s.Init switch
            {
                LoraInit.Gaussian when !pissa => JsonValue.Create("gaussian"),
                LoraInit.Random => JsonValue.Create(false),
                _ => JsonValue.Create(true),
            },
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = Number(s.Alpha * alphaFactor),
            ["lora_dropout"] = s.Dropout,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = s.Rank * rankFactor,
            ["rank_pattern"] = new JsonObject(s.RankPattern.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value * rankFactor)))),
            ["revision"] = options.Revision,
            ["target_modules"] = targets,
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = s.UseDora,
            ["use_rslora"] = s.UseRsLora,
        };
        return new JsonObject(fields);
    }

    // PEFT writes integral alphas as ints (LoraConfig.lora_alpha is an int).
    private static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    /// <summary>Reads a PEFT adapter's config into LoRA settings; errors name the file and field.</summary>
    public static LoraSettings ReadConfig(string directory, string method)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no PEFT adapter config here", path);
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(path, Encoding.UTF8)) as JsonObject
                ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        string Fail(string field, string message) => throw new InvalidDataException($"{path}: field '{field}': {message}");
        var peftType = config["peft_type"]?.GetValue<string>();
        if (peftType != "LORA")
            Fail("peft_type", $"\"{peftType}\" is not a LoRA adapter (expected \"LORA\")");
        if (config["bias"] is JsonValue bias && bias.GetValue<string>() != "none")
            Fail("bias", $"\"{bias}\": adapters that train biases are not supported");
        if (config["fan_in_fan_out"] is JsonValue fifo && fifo.GetValue<bool>())
            Fail("fan_in_fan_out", "true (Conv1D/GPT-2 layout) is not used by Qwen3 or Llama");
        if (config["modules_to_save"] is JsonArray { Count: > 0 } mts)
            Fail("modules_to_save", $"{mts.ToJsonString()}: full copies of modules in an adapter are not supported");
        if (config["layer_replication"] is JsonArray { Count: > 0 })
            Fail("layer_replication", "not supported");

        // Settings are read as the user would write them; keys PEFT has and we do not use are dropped.
        // init_lora_weights matters on load: PEFT redoes a PiSSA split of the base before loading A and B.
        var known = new[] { "r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora", "use_dora", "rank_pattern", "alpha_pattern", "init_lora_weights" };
        var subset = new JsonObject();
        foreach (var key in known)
            if (config[key] is { } node)   // PEFT writes null for unset fields
                subset[key] = node.DeepClone();
        var useDora = config["use_dora"] is JsonValue d && d.GetValue<bool>();
        try
        {
            var reader = new SettingsReader(method, subset);
            var settings = LoraSettings.Read(reader, method, useDora);
            reader.RejectUnknown();
            return settings with { Alpha = config["lora_alpha"] is null ? 8 : settings.Alpha }; // PEFT's default alpha is 8
        }
        catch (MethodSettingsException e)
        {
            throw new InvalidDataException($"{path}: field '{e.Field}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Adapts <paramref name="model"/> with a PEFT adapter: the modules and ranks come from the
    /// tensors, alpha and options from the config; every tensor is checked against the model.
    /// </summary>
    public static LoraAdaptedModel Load(CausalLM model, string directory, string method, Func<ProjectionSlot, Linear, nn.Module<Tensor, Tensor>>? prepareBase = null)
    {
        var settings = ReadConfig(directory, method);
        var weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException(File.Exists(Path.Combine(directory, "adapter_model.bin"))
                ? $"{directory}: only adapter_model.bin (pickle) is present; save the adapter with safe_serialization=True"
                : $"{weightsPath}: adapter weights not found", weightsPath);
        using var reader = Safetensors.Open(weightsPath);
        var byModule = new Dictionary<string, Dictionary<string, string>>();
        foreach (var key in reader.Names)
        {
            if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal))
                throw new InvalidDataException($"{weightsPath}: tensor '{key}' does not start with '{KeyPrefix}'");
            var rest = key[KeyPrefix.Length..];
            string? part = null;
            foreach (var suffix in new[] { ".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector.weight", ".lora_magnitude_vector" })
            {
                if (rest.EndsWith(suffix, StringComparison.Ordinal))
                {
                    part = suffix.StartsWith(".lora_magnitude_vector", StringComparison.Ordinal) ? "m" : suffix[6..7];
                    rest = rest[..^suffix.Length];
                    break;
                }
            }
            if (part is null)
                throw new InvalidDataException($"{weightsPath}: tensor '{key}' is not a LoRA A/B matrix or DoRA magnitude (embedding LoRA, biases and modules_to_save are not supported)");
            if (!byModule.TryGetValue(rest, out var parts))
                byModule[rest] = parts = new Dictionary<string, string>();
            parts[part] = key;
        }
        // Every tensor is checked against the model and the config before the model is touched,
        // so a bad adapter leaves the model as it was.
        var slots = ProjectionSlot.Of(model).ToDictionary(s => s.Name);
        var ranks = new Dictionary<string, int>();
        foreach (var (module, parts) in byModule)
        {
            if (!slots.TryGetValue(module, out var slot))
                throw new InvalidDataException($"{weightsPath}: adapts '{module}', but the model has no such linear layer (this adapter is for another model?)");
            if (!parts.ContainsKey("A") || !parts.ContainsKey("B"))
                throw new InvalidDataException($"{weightsPath}: module '{module}' has {(parts.ContainsKey("A") ? "lora_A but no lora_B" : "lora_B but no lora_A")}");
            if (parts.ContainsKey("m") != settings.UseDora)
                throw new InvalidDataException($"{weightsPath}: module '{module}' {(settings.UseDora ? "lacks the DoRA magnitude the config's use_dora asks for" : "has a DoRA magnitude but the config says use_dora false")}");
            var (inFeatures, outFeatures) = slot.Module switch
            {
                Linear l => (l.in_features, l.out_features),
                IFrozenLinear q => (q.in_features, q.out_features),
                _ => throw new InvalidOperationException($"{module} is already adapted ({slot.Module.GetType().Name}); load the adapter into a freshly loaded model"),
            };
            var a = reader.GetInfo(parts["A"]).Shape;
            var rank = a.Count == 2 ? (int)a[0] : -1;
            var expectedRank = settings.RankFor(module);
            if (rank != expectedRank)
                throw new InvalidDataException($"{weightsPath}: tensor '{parts["A"]}' has shape [{string.Join(", ", a)}], but the config gives {module} rank {expectedRank} (r / rank_pattern); expected [{expectedRank}, {inFeatures}]");
            ExpectShape(reader, weightsPath, parts["A"], [rank, inFeatures]);
            ExpectShape(reader, weightsPath, parts["B"], [outFeatures, rank]);
            if (parts.TryGetValue("m", out var m))
                ExpectShape(reader, weightsPath, m, [outFeatures]);
            ranks[module] = rank;
        }
        if (ranks.Count == 0)
            throw new InvalidDataException($"{weightsPath}: holds no LoRA tensors");

        var adapted = LoraAdaptedModel.Inject(model, settings, prepareBase, ranks);
        using var _ = no_grad();
        foreach (var (module, parts) in byModule)
        {
            var layer = adapted.Layers[module];
            Copy(reader, weightsPath, parts["A"], layer.lora_A.weight);
            Copy(reader, weightsPath, parts["B"], layer.lora_B.weight);
            if (parts.TryGetValue("m", out var m))
                Copy(reader, weightsPath, m, layer.lora_magnitude_vector!);
        }
        return adapted;
    }

    private static void ExpectShape(ISafetensorsReader reader, string file, string key, long[] expected)
    {
        var shape = reader.GetInfo(key).Shape;
        if (!shape.SequenceEqual(expected))
            throw new InvalidDataException($"{file}: tensor '{key}' has shape [{string.Join(", ", shape)}], the model expects [{string.Join(", ", expected)}]");
    }

    private static void Copy(ISafetensorsReader reader, string file, string key, Parameter target)
    {
        using var value = reader.Load(key);
        if (!value.shape.SequenceEqual(target.shape))
            throw new InvalidDataException($"{file}: tensor '{key}' has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", target.shape)}]");
        target.copy_(value);
    }
}
