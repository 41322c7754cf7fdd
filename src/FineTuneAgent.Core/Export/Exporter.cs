using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export.Gguf;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Checkpoints;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Export;

/// <summary>Writes a model folder in HF layout, with no adapter, as a GGUF file of the given tensor type (f32, f16, q8_0, q4_0).</summary>
public delegate void GgufModelWriter(string modelDir, string outPath, string quant, IProgress<ExportProgress>? progress);

/// <summary>What an export wrote: the format, where, which method's save went in (null: the model alone), and the files.</summary>
public sealed record ExportResult(ExportFormat Format, string OutputPath, string? Method, IReadOnlyList<string> Files)
{
    public JsonObject ToJson() => new()
    {
        ["event"] = "exported",
        ["format"] = ExportChoices.Name(Format),
        ["output"] = OutputPath,
        ["method"] = Method,
        ["files"] = new JsonArray(Files.Select(f => (JsonNode?)f).ToArray()),
    };
}

/// <summary>
/// One export of any format: `fta export`, `fta train --export` and the exporter stage call this.
/// GGUF of a model with an adapter is written from a merged copy in a hidden folder beside the
/// output, removed afterwards; the GGUF writer itself is passed in.
/// </summary>
public static class Exporter
{
    public static ExportResult Export(ExportRequest request, PluginHost plugins, GgufModelWriter writeGguf, IProgress<ExportProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(writeGguf);
        if (!File.Exists(Path.Combine(request.ModelDirectory, Checkpoint.ConfigFileName)))
            throw new FileNotFoundException($"{request.ModelDirectory}: no {Checkpoint.ConfigFileName}; --model must be a model folder in Hugging Face layout", Path.Combine(request.ModelDirectory, Checkpoint.ConfigFileName));
        switch (request.Format)
        {
            case ExportFormat.Peft:
                var adapterDir = request.AdapterDirectory
                    ?? throw new ArgumentException("--format peft exports an adapter: give --adapter DIR (or --run ID)");
                var peft = PeftExporter.Export(request.ModelDirectory, adapterDir, request.OutputPath, progress);
                return new ExportResult(ExportFormat.Peft, peft.OutputDirectory, peft.Method, peft.Files);
            case ExportFormat.Merged:
                var merged = MergedExporter.Export(plugins, request.ModelDirectory, request.AdapterDirectory, request.OutputPath,
                    new MergedExportOptions { DType = request.DType, MaxShardSize = request.MaxShardSize }, progress);
                return new ExportResult(ExportFormat.Merged, merged.OutputDirectory, request.AdapterDirectory is null ? null : merged.Method, Files(merged.OutputDirectory));
            case ExportFormat.GgufAdapter:
                return ExportGgufAdapter(request, plugins, progress);
            default:
                return ExportGguf(request, plugins, writeGguf, progress);
        }
    }

    /// <summary>The GGUF writer of this build (Core/Export/Gguf), as a <see cref="GgufModelWriter"/> over the given plugins.</summary>
    public static GgufModelWriter GgufWriter(PluginHost plugins) => (modelDir, outPath, quant, progress) =>
    {
        var config = Modeling.Config.ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        GgufExporter.ExportModel(plugins.TemplateFor(config.ModelType), modelDir, outPath, ParseQuant(quant), GgufProgress(progress));
    };

    private static ExportResult ExportGgufAdapter(ExportRequest request, PluginHost plugins, IProgress<ExportProgress>? progress)
    {
        var adapterDir = request.AdapterDirectory
            ?? throw new ArgumentException("--format gguf-adapter exports an adapter: give --adapter DIR (or --run ID)");
        var output = Path.GetFullPath(request.OutputPath);
        ExportTarget.EnsureFree(output);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var saved = AdapterFolder.Read(adapterDir);
        if (!saved.IsPeft)
            throw new ExportException($"{adapterDir}: a {saved.Method} save has no LoRA adapter for llama.cpp to apply; export it with --format gguf (the merged model) instead");
        var config = Modeling.Config.ModelConfigReader.Load(Path.Combine(request.ModelDirectory, Checkpoint.ConfigFileName));
        GgufExporter.ExportAdapter(plugins.TemplateFor(config.ModelType), request.ModelDirectory, adapterDir, output, GgufProgress(progress));
        return new ExportResult(ExportFormat.GgufAdapter, output, saved.Method, [Path.GetFileName(output)]);
    }

    private static GgufQuant ParseQuant(string quant) => ExportChoices.Quant(quant) switch
    {
        "f32" => GgufQuant.F32,
        "f16" => GgufQuant.F16,
        "q8_0" => GgufQuant.Q8_0,
        _ => GgufQuant.Q4_0,
    };

    private static IProgress<GgufExportProgress>? GgufProgress(IProgress<ExportProgress>? progress) =>
        progress is null ? null : new SynchronousProgress<GgufExportProgress>(p => progress.Report(new ExportProgress("gguf", $"{p.TensorName} ({p.Type})", p.Index, p.Count)));

    private static ExportResult ExportGguf(ExportRequest request, PluginHost plugins, GgufModelWriter writeGguf, IProgress<ExportProgress>? progress)
    {
        var quant = ExportChoices.Quant(request.Quant);
        var output = Path.GetFullPath(request.OutputPath);
        ExportTarget.EnsureFree(output);
        if (request.AdapterDirectory is null)
        {
            writeGguf(request.ModelDirectory, output, quant, progress);
            return new ExportResult(ExportFormat.Gguf, output, null, [Path.GetFileName(output)]);
        }
        var folder = Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".fta-merge-{Guid.NewGuid():N}");
        try
        {
            // f32 GGUF from an f32 merge; the other types from a merge in the base's own dtype, as a download would be.
            var dtype = request.DType ?? (quant == "f32" ? ScalarType.Float32 : (ScalarType?)null);
            progress?.Report(ExportProgress.Say("merge", $"merging into a temporary checkpoint {temp} for GGUF"));
            var merged = MergedExporter.Export(plugins, request.ModelDirectory, request.AdapterDirectory, temp,
                new MergedExportOptions { DType = dtype, MaxShardSize = request.MaxShardSize }, progress);
            writeGguf(temp, output, quant, progress);
            return new ExportResult(ExportFormat.Gguf, output, merged.Method, [Path.GetFileName(output)]);
        }
        finally
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
        }
    }

    private static IReadOnlyList<string> Files(string folder) =>
        Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    /// <summary>
    /// `fta train --export`: each format after a finished run, into &lt;run output&gt;/export-&lt;format&gt;
    /// (GGUF as model-&lt;quant&gt;.gguf inside it), from the run's base model and final adapter.
    /// </summary>
    public static IReadOnlyList<ExportResult> ExportRun(Training.RunStore store, string runId, IReadOnlyList<ExportFormat> formats, ScalarType? dtype, string quant,
        PluginHost plugins, GgufModelWriter writeGguf, IProgress<ExportProgress>? progress = null)
    {
        var (modelDir, adapterDir) = RunExportSource.Resolve(store, runId);
        var results = new List<ExportResult>();
        foreach (var format in formats)
        {
            var folder = Path.Combine(adapterDir, $"export-{ExportChoices.Name(format)}");
            var request = new ExportRequest
            {
                Format = format,
                ModelDirectory = modelDir,
                AdapterDirectory = adapterDir,
                OutputPath = format switch
                {
                    ExportFormat.Gguf => Path.Combine(folder, $"model-{ExportChoices.Quant(quant)}.gguf"),
                    ExportFormat.GgufAdapter => Path.Combine(folder, "adapter.gguf"),
                    _ => folder,
                },
                DType = dtype,
                Quant = quant,
            };
            progress?.Report(ExportProgress.Say("start", $"export {ExportChoices.Name(format)} → {request.OutputPath}"));
            results.Add(Export(request, plugins, writeGguf, progress));
        }
        return results;
    }
}
