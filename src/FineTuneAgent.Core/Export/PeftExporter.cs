using FineTuneAgent.Modeling.Checkpoints;

namespace FineTuneAgent.Core.Export;

/// <summary>What a PEFT export wrote.</summary>
public sealed record PeftExportResult(string OutputDirectory, string Method, IReadOnlyList<string> Files);

/// <summary>
/// The PEFT adapter of a LoRA, DoRA or QLoRA save as <c>PeftModel.from_pretrained</c> loads it:
/// adapter_config.json and adapter_model.safetensors in a folder of their own (a run's output
/// folder also holds checkpoints and our records). Checked against the base first, from the
/// headers; our own fta_method.json stays behind (PEFT does not read it). Freeze and Full train the model's own weights, so they have no PEFT adapter.
/// </summary>
public static class PeftExporter
{
    public static PeftExportResult Export(string modelDir, string adapterDir, string outDir, IProgress<ExportProgress>? progress = null)
    {
        ExportTarget.EnsureFree(outDir);
        var adapter = AdapterFolder.Read(adapterDir);
        if (!adapter.IsPeft)
            throw new ExportException(
                $"{adapterDir}: a {adapter.Method} save has no PEFT adapter ({adapter.Method} trains the model's own weights, it has no low-rank delta); export it with --format merged (or gguf) instead");
        using (var baseWeights = Checkpoint.OpenWeights(modelDir))
            adapter.CheckAgainst(baseWeights, modelDir);
        string[] files = [AdapterFolder.PeftConfigFile, AdapterFolder.PeftWeightsFile];
        ExportTarget.WriteFolder(outDir, temp =>
        {
            for (var i = 0; i < files.Length; i++)
            {
                var source = Path.Combine(adapterDir, files[i]);
                if (!File.Exists(source))
                    throw new FileNotFoundException($"{source}: not found; a PEFT adapter needs both {files[0]} and {files[1]}", source);
                File.Copy(source, Path.Combine(temp, files[i]));
                progress?.Report(new ExportProgress("copy", files[i], i + 1, files.Length));
            }
        });
        if (adapter.Method == "qlora")
            progress?.Report(ExportProgress.Say("copy", $"QLoRA adapter: load it over the base in 4-bit (bitsandbytes) as it was trained, or merge it with --format merged (into the unquantized base)"));
        return new PeftExportResult(Path.GetFullPath(outDir), adapter.Method, files);
    }
}
