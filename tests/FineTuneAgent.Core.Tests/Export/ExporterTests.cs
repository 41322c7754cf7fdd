using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Export;

/// <summary>
/// The export entry point: GGUF of an adapted model is written from a merged checkpoint that is
/// removed afterwards (the GGUF writer here is a stand-in that checks what it is given), and a
/// recorded run resolves to its base model and final adapter.
/// </summary>
public sealed class ExporterTests : IDisposable
{
    private readonly ExportFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void Gguf_WithAdapter_HandsTheWriterAMergedCheckpoint_ThenRemovesIt()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var adapterDir = _fx.Adapter(baseDir, "qwen3", "lora");
        var mergedDir = Path.Combine(_fx.Root, "merged");
        MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, mergedDir);
        var output = Path.Combine(_fx.Root, "gguf", "model-f32.gguf");
        string? given = null;
        void Writer(string modelDir, string outPath, string quant, IProgress<ExportProgress>? _)
        {
            given = modelDir;
            Assert.Equal("f32", quant);
            Assert.Equal(output, outPath);
            using var ids = ExportFixture.Ids(67);
            using var fromWriter = ExportFixture.Logits(modelDir, ids);
            using var merged = ExportFixture.Logits(mergedDir, ids);
            Assert.Equal(0f, ExportFixture.MaxAbsDiff(fromWriter, merged));
            File.WriteAllText(outPath, "gguf stand-in");
        }

        var result = Exporter.Export(new ExportRequest
        {
            Format = ExportFormat.Gguf, ModelDirectory = baseDir, AdapterDirectory = adapterDir, OutputPath = output, Quant = "F32",
        }, ExportFixture.Host.Value, Writer);

        Assert.Equal("lora", result.Method);
        Assert.NotNull(given);
        Assert.NotEqual(baseDir, given);
        Assert.False(Directory.Exists(given));
        Assert.Equal(["model-f32.gguf"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(output)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Gguf_WithoutAdapter_GoesStraightFromTheModelFolder_AndAFailingWriterLeavesNoTemporaryFolder()
    {
        var baseDir = _fx.BaseModel("llama");
        var output = Path.Combine(_fx.Root, "m.gguf");
        string? given = null;
        Exporter.Export(new ExportRequest { Format = ExportFormat.Gguf, ModelDirectory = baseDir, OutputPath = output, Quant = "q8_0" },
            ExportFixture.Host.Value, (dir, _, _, _) => given = dir);
        Assert.Equal(baseDir, given);

        var adapterDir = _fx.Adapter(baseDir, "llama", "freeze");
        var failing = Path.Combine(_fx.Root, "fail", "x.gguf");
        Assert.Throws<IOException>(() => Exporter.Export(
            new ExportRequest { Format = ExportFormat.Gguf, ModelDirectory = baseDir, AdapterDirectory = adapterDir, OutputPath = failing },
            ExportFixture.Host.Value, (_, _, _, _) => throw new IOException("disk full")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(failing)!));
    }

    [Fact]
    public void Peft_WithoutAdapter_AsksForOne()
    {
        var e = Assert.Throws<ArgumentException>(() => Exporter.Export(
            new ExportRequest { Format = ExportFormat.Peft, ModelDirectory = _fx.BaseModel("qwen3"), OutputPath = Path.Combine(_fx.Root, "p") },
            ExportFixture.Host.Value, (_, _, _, _) => { }));
        Assert.Contains("--adapter", e.Message);
    }

    [Fact]
    public void ExportRun_CompletedRun_ExportsItsFinalAdapterIntoExportFolders_FromTheRecordedBase()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var store = new RunStore(Path.Combine(_fx.Root, "runs"));
        var runOutput = Path.Combine(_fx.Root, "run-output");
        CopyFolder(_fx.Adapter(baseDir, "qwen3", "dora"), runOutput);
        // A built-in-model run records no --model: the adapter's base_model_name_or_path says which.
        var request = new TrainRequest { RunId = "r1", Method = "dora", OutputDirectory = runOutput };
        var record = store.Create("r1", request.ToJson(), runOutput);
        store.Save(record with { Status = RunStatus.Completed, Summary = new JsonObject { ["output_dir"] = runOutput } });

        var results = Exporter.ExportRun(store, "r1", [ExportFormat.Peft, ExportFormat.Merged], null, "f16", ExportFixture.Host.Value, (_, _, _, _) => { });

        Assert.Equal([Path.Combine(runOutput, "export-peft"), Path.Combine(runOutput, "export-merged")], results.Select(r => r.OutputPath));
        Assert.True(File.Exists(Path.Combine(runOutput, "export-peft", "adapter_model.safetensors")));
        using var ids = ExportFixture.Ids(67);
        using var merged = ExportFixture.Logits(Path.Combine(runOutput, "export-merged"), ids);
        using var expected = ExportFixture.AdaptedLogits(baseDir, "qwen3", "dora", runOutput, ids);
        Assert.True(ExportFixture.MaxAbsDiff(merged, expected) < 1e-4f);
    }

    [Fact]
    public void ExportRun_UnfinishedRun_PointsAtItsLastCheckpoint()
    {
        var store = new RunStore(Path.Combine(_fx.Root, "runs"));
        var request = new TrainRequest { RunId = "r2", OutputDirectory = Path.Combine(_fx.Root, "o2") };
        var record = store.Create("r2", request.ToJson(), request.OutputDirectory);
        store.Save(record with { Status = RunStatus.Failed, Checkpoints = ["/x/checkpoint-4"] });
        var e = Assert.Throws<ExportException>(() => RunExportSource.Resolve(store, "r2"));
        Assert.Contains("run r2 is failed", e.Message);
        Assert.Contains("--adapter /x/checkpoint-4", e.Message);
        Assert.Throws<KeyNotFoundException>(() => RunExportSource.Resolve(store, "nope"));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
