using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export;

/// <summary>How a merged checkpoint is written.</summary>
public sealed record MergedExportOptions
{
    /// <summary>The stored dtype (null: the base config's torch_dtype).</summary>
    public ScalarType? DType { get; init; }

    /// <summary>transformers' max_shard_size: a byte count or "5GB", "500MB", "2GiB"…</summary>
    public string MaxShardSize { get; init; } = "5GB";
}

/// <summary>What a merged export wrote.</summary>
public sealed record MergedExportResult(string OutputDirectory, string Method, ScalarType DType, int Tensors, int Shards, int MergedModules, IReadOnlyList<string> CopiedFiles);

/// <summary>
/// A base model folder plus what a method saved → one Hugging Face checkpoint with the training
/// folded in: config.json (torch_dtype updated), weights (sharded above the limit, with
/// model.safetensors.index.json), generation_config.json, tokenizer and chat template. The
/// adapter is applied by its own method plugin (the merge maths lives there, once) to the base
/// loaded in full precision — QLoRA's adapter to the original unquantized weights, not to the
/// dequantized NF4 ones. Memory: one copy of the model (in the stored dtype, or float32 when the
/// output dtype differs, so the merge rounds once); weights are converted as they are written.
/// </summary>
public static class MergedExporter
{
    public static MergedExportResult Export(PluginHost plugins, string modelDir, string? adapterDir, string outDir,
        MergedExportOptions? options = null, IProgress<ExportProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        options ??= new MergedExportOptions();
        var maxShardBytes = ParseShardSize(options.MaxShardSize);
        ExportTarget.EnsureFree(outDir);
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var adapter = adapterDir is null ? null : AdapterFolder.Read(adapterDir);
        using (var baseWeights = Checkpoint.OpenWeights(modelDir))
            adapter?.CheckAgainst(baseWeights, modelDir);

        var stored = Checkpoint.DTypeOf(config.TorchDtype);
        var target = options.DType ?? stored;
        var compute = stored == target ? stored : ScalarType.Float32;
        using var templateLease = plugins.AcquireTemplateFor(config.ModelType);
        var template = templateLease.Instance;
        using var model = template.BuildModel(config, compute, initialize: false);
        model.eval();
        // A Full save holds every weight: the base's would only be overwritten.
        if (adapter?.Method != "full")
        {
            progress?.Report(ExportProgress.Say("load", $"loading {modelDir} ({config.ParameterCount():N0} parameters, {Checkpoint.NameOf(compute)})"));
            Checkpoint.LoadWeights(model, modelDir);
        }
        var merged = 0;
        if (adapter is not null)
        {
            progress?.Report(ExportProgress.Say("merge", $"applying the {adapter.Method} save in {adapter.Path}{(adapter.Method == "qlora" ? " to the unquantized base" : "")}"));
            using var methodLease = plugins.AcquireMethod(adapter.MergeMethod);
            var adapted = methodLease.Instance.Load(model, template, adapter.Path);
            merged = MergeAndUnwrap(model, adapted, progress);
        }

        var written = new List<string>();
        var total = model.state_dict().Count;
        var copied = new List<string>();
        ExportTarget.WriteFolder(outDir, temp =>
        {
            var done = 0;
            Checkpoint.Save(model, temp, target, maxShardBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                tensorWritten: (name, _) => progress?.Report(new ExportProgress("write", name, ++done, total)));
            copied.AddRange(ModelSideFiles.Copy(modelDir, temp));
            written.AddRange(Directory.EnumerateFiles(temp, "*.safetensors").Select(Path.GetFileName)!);
        });
        return new MergedExportResult(Path.GetFullPath(outDir), adapter?.Method ?? "none", target, total, written.Count, merged, copied);
    }

    /// <summary>
    /// Folds every LoRA/DoRA layer into its base weight (one progress report each), lets the method
    /// merge whatever else it holds, then puts the plain layers back so the state dict holds only
    /// the checkpoint's own names.
    /// </summary>
    private static int MergeAndUnwrap(CausalLM model, AdaptedModel adapted, IProgress<ExportProgress>? progress)
    {
        var loraSlots = ProjectionSlot.Of(model).Where(s => s.Module is LoraLinear).ToList();
        for (var i = 0; i < loraSlots.Count; i++)
        {
            ((LoraLinear)loraSlots[i].Module).Merge();
            progress?.Report(new ExportProgress("merge", loraSlots[i].Name, i + 1, loraSlots.Count));
        }
        adapted.Merge();
        foreach (var slot in loraSlots)
        {
            var lora = (LoraLinear)slot.Module;
            slot.Replace(lora.Unwrap());
            lora.Dispose();
        }
        var leftover = model.state_dict().Keys.FirstOrDefault(k => k.Contains(".lora_", StringComparison.Ordinal));
        if (leftover is not null)
            throw new InvalidOperationException($"the merged model still holds adapter tensor '{leftover}'");
        return loraSlots.Count;
    }

    private static long ParseShardSize(string size)
    {
        try
        {
            return Safetensors.ParseSize(size);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"--max-shard-size: {e.Message}", e);
        }
    }
}
