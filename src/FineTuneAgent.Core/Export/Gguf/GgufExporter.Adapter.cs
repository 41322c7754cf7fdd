using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export.Gguf;

public static partial class GgufExporter
{
    public const string AdapterWeightsFile = "adapter_model.safetensors";
    private const string PeftPrefix = "base_model.model.";

    /// <summary>Exports a PEFT LoRA adapter trained on the model in <paramref name="baseModelDir"/>; the template comes from the plugins.</summary>
    public static void ExportAdapter(string baseModelDir, string adapterDir, string outPath, IProgress<GgufExportProgress>? progress = null)
    {
        var config = ModelConfigReader.Load(Path.Combine(baseModelDir, Checkpoint.ConfigFileName));
        using var plugins = PluginHost.Load();
        ExportAdapter(plugins.TemplateFor(config.ModelType), baseModelDir, adapterDir, outPath, progress);
    }

    /// <summary>
    /// Writes a GGUF LoRA adapter (general.type "adapter", adapter.type "lora",
    /// adapter.lora.alpha; tensors &lt;base tensor&gt;.lora_a [in, r] and .lora_b [r, out] in ggml
    /// order). llama.cpp scales every pair by alpha / r with r read from lora_b; where PEFT's
    /// scale differs from that (rsLoRA's alpha / √r, rank_pattern, alpha_pattern) the ratio is
    /// folded into lora_b, so the adapter applies with PEFT's effective scale. For llama, lora_b's
    /// rows of q_proj/k_proj are permuted like the base weights.
    /// </summary>
    public static void ExportAdapter(IModelTemplate template, string baseModelDir, string adapterDir, string outPath, IProgress<GgufExportProgress>? progress = null)
    {
        var config = ModelConfigReader.Load(Path.Combine(baseModelDir, Checkpoint.ConfigFileName));
        var arch = CheckArchitecture(template, config, baseModelDir);
        var peft = PeftLoraConfig.Load(adapterDir);
        RefuseExisting(outPath);
        var weightsPath = Path.Combine(adapterDir, AdapterWeightsFile);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"{weightsPath}: adapter weights not found", weightsPath);

        using var adapter = Safetensors.Open(weightsPath);
        using var baseWeights = Checkpoint.OpenWeights(baseModelDir);
        var modules = new SortedDictionary<string, (string? A, string? B)>(StringComparer.Ordinal);
        foreach (var key in adapter.Names)
        {
            if (key.EndsWith(".lora_magnitude_vector", StringComparison.Ordinal) || key.EndsWith(".lora_magnitude_vector.weight", StringComparison.Ordinal))
                throw new NotSupportedException($"{weightsPath}: tensor '{key}' is a DoRA magnitude; llama.cpp has no DoRA adapters — merge the adapter and export the merged model instead");
            var isA = key.EndsWith(".lora_A.weight", StringComparison.Ordinal);
            if (!key.StartsWith(PeftPrefix, StringComparison.Ordinal) || !(isA || key.EndsWith(".lora_B.weight", StringComparison.Ordinal)))
                throw new InvalidDataException($"{weightsPath}: tensor '{key}' is not a LoRA A/B matrix (base_model.model.<module>.lora_A.weight / .lora_B.weight)");
            var module = key[PeftPrefix.Length..^".lora_A.weight".Length];
            var pair = modules.GetValueOrDefault(module);
            modules[module] = isA ? (key, pair.B) : (pair.A, key);
        }
        if (modules.Count == 0)
            throw new InvalidDataException($"{weightsPath}: holds no LoRA tensors");

        var writer = new GgufWriter();
        writer.Add("general.architecture", GgufValue.String(arch));
        writer.Add("general.type", GgufValue.String("adapter"));
        writer.Add("general.name", GgufValue.String(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(adapterDir)))));
        writer.Add("adapter.type", GgufValue.String("lora"));
        writer.Add("adapter.lora.alpha", GgufValue.Float32((float)peft.Alpha));

        var plan = new List<PlannedTensor>();
        foreach (var (module, (a, b)) in modules)
        {
            if (a is null || b is null)
                throw new InvalidDataException($"{weightsPath}: module '{module}' has {(a is null ? "lora_B but no lora_A" : "lora_A but no lora_B")}");
            var baseName = module + ".weight";
            if (baseName == "lm_head.weight" && config.TieWordEmbeddings)
                throw new NotSupportedException($"{weightsPath}: the adapter trains lm_head, which this model ties to the embedding; llama.cpp cannot apply it");
            var gguf = template.GgufTensorName(baseName)
                ?? throw new NotSupportedException($"{weightsPath}: module '{module}' has no GGUF tensor for architecture {arch}");
            if (!baseWeights.Contains(baseName))
                throw new InvalidDataException($"{weightsPath}: adapts '{module}', but the base model in {baseModelDir} has no '{baseName}' (another base model?)");
            var baseShape = baseWeights.GetInfo(baseName).Shape;
            var aShape = adapter.GetInfo(a).Shape.ToArray();
            var bShape = adapter.GetInfo(b).Shape.ToArray();
            var rank = aShape.Length == 2 ? (int)aShape[0] : -1;
            if (aShape.Length != 2 || aShape[1] != baseShape[1] || bShape.Length != 2 || bShape[0] != baseShape[0] || bShape[1] != rank)
                throw new InvalidDataException($"{weightsPath}: module '{module}': lora_A [{string.Join(", ", aShape)}] and lora_B [{string.Join(", ", bShape)}] do not fit the base weight [{string.Join(", ", baseShape)}] (expected [r, {baseShape[1]}] and [{baseShape[0]}, r])");
            if (rank != peft.RankFor(module))
                throw new InvalidDataException($"{weightsPath}: module '{module}' has rank {rank}, but {PeftLoraConfig.FileName} gives it {peft.RankFor(module)} (r / rank_pattern)");

            // llama.cpp applies scale alpha / r (or 1 when alpha is 0); fold PEFT's own scale's ratio to it into B.
            var llamaScale = peft.Alpha != 0 ? peft.Alpha / rank : 1.0;
            var correction = peft.ScalingFor(module, rank) / llamaScale;
            var heads = template.GgufPermutesQueryKey ? QueryKeyHeads(baseName, config) : null;
            plan.Add(new PlannedTensor(gguf + ".lora_a", aShape, GgmlType.F32, _ => LoadFloats(adapter, a, null)));
            plan.Add(new PlannedTensor(gguf + ".lora_b", bShape, GgmlType.F32, _ => LoadScaled(adapter, b, heads, correction)));
        }
        foreach (var p in plan)
            writer.AddTensor(p.GgufName, p.TorchShape.Reverse().ToArray(), p.Type);

        var index = 0;
        AtomicFile.Write(outPath, stream => writer.WriteTo(stream, info =>
        {
            var p = plan[index++];
            var bytes = p.Encode(adapter);
            progress?.Report(new GgufExportProgress(index, plan.Count, p.GgufName, p.Type));
            return bytes;
        }));
    }

    private static float[] LoadScaled(ISafetensorsReader reader, string name, int? permuteHeads, double scale)
    {
        var values = LoadFloats(reader, name, permuteHeads);
        if (scale != 1.0)
        {
            for (var i = 0; i < values.Length; i++)
                values[i] = (float)(values[i] * scale);
        }
        return values;
    }
}
