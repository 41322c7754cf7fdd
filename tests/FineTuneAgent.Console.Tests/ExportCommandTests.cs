using System.Text.Json;

namespace FineTuneAgent.Console.Tests;

/// <summary>One LoRA step on the built-in tiny Qwen3 with `--export peft,merged`, shared by the `fta export` tests.</summary>
public sealed class ExportedRun : IDisposable
{
    public ExportedRun()
    {
        var (code, stdout, stderr) = Fta.Run("train", "--method", "lora", "--max-steps", "1", "--no-eval", "--export", "peft,merged", "--json", "--runs-dir", Runs);
        Assert.True(code == 0, stderr + stdout);
        Lines = ExportCommandTests.Json(stdout);
        var summary = Lines.Single(l => l.GetProperty("event").GetString() == "summary");
        RunId = summary.GetProperty("run_id").GetString()!;
        Output = summary.GetProperty("output_dir").GetString()!;
    }

    public string Runs { get; } = Path.Combine(Path.GetTempPath(), $"fta-export-cli-{Guid.NewGuid():N}");

    public IReadOnlyList<JsonElement> Lines { get; }

    public string RunId { get; }

    public string Output { get; }

    /// <summary>The built-in model the run trained (its adapter records it as the base).</summary>
    public string BaseModel => JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "adapter_config.json"))).RootElement.GetProperty("base_model_name_or_path").GetString()!;

    public void Dispose()
    {
        if (Directory.Exists(Runs))
            Directory.Delete(Runs, recursive: true);
    }
}

/// <summary>`fta export` and `fta train --export` as a script sees them.</summary>
public sealed class ExportCommandTests(ExportedRun run) : IClassFixture<ExportedRun>
{
    internal static List<JsonElement> Json(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void TrainWithExport_WritesEachFormatIntoTheRunOutput_InTheExporterStage()
    {
        var events = run.Lines.Select(l => l.GetProperty("event").GetString()).ToList();
        var stages = run.Lines.Where(l => l.GetProperty("event").GetString() == "stage").Select(l => l.GetProperty("stage").GetString());
        Assert.Equal(["dataset", "trainer", "exporter"], stages);
        var exported = run.Lines.Where(l => l.GetProperty("event").GetString() == "export").ToList();
        Assert.Equal(["peft", "merged"], exported.Select(e => e.GetProperty("format").GetString()));
        Assert.True(events.LastIndexOf("export") < events.IndexOf("summary"));
        Assert.Equal([Path.Combine(run.Output, "export-peft"), Path.Combine(run.Output, "export-merged")], exported.Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.EnumerateFiles(Path.Combine(run.Output, "export-peft")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var merged = Path.Combine(run.Output, "export-merged");
        foreach (var file in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(merged, file)), file);
    }

    [Fact]
    public void ExportRun_MergedBf16_ReportsEveryTensor_AndGeneratesLikeTheFloat32Export()
    {
        var outDir = Path.Combine(run.Runs, "bf16");
        var (code, stdout, stderr) = Fta.Run("export", "--run", run.RunId, "--format", "merged", "--dtype", "bf16", "--out", outDir, "--json", "--runs-dir", run.Runs);
        Assert.True(code == 0, stderr + stdout);
        var lines = Json(stdout);
        var writes = lines.Where(l => l.GetProperty("event").GetString() == "progress" && l.GetProperty("phase").GetString() == "write").ToList();
        var merges = lines.Where(l => l.GetProperty("event").GetString() == "progress" && l.GetProperty("phase").GetString() == "merge" && l.GetProperty("item").ValueKind == JsonValueKind.String).ToList();
        // Tiny Qwen3: 2 layers × 11 tensors + embedding + final norm (tied lm_head is not written); LoRA on 7 projections × 2 layers.
        Assert.Equal(Enumerable.Range(1, 24), writes.Select(w => w.GetProperty("done").GetInt32()));
        Assert.Equal(14, merges.Count);
        Assert.Equal("merged", lines[^1].GetProperty("format").GetString());
        Assert.Equal("lora", lines[^1].GetProperty("method").GetString());
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "config.json"))))
            Assert.Equal("bfloat16", config.RootElement.GetProperty("torch_dtype").GetString());

        // Not over an existing export.
        var (again, _, againErr) = Fta.Run("export", "--run", run.RunId, "--format", "merged", "--out", outDir, "--runs-dir", run.Runs);
        Assert.Equal(1, again);
        Assert.Contains("already exists", againErr);
    }

    [Fact]
    public void ExportModelAndAdapter_Peft_PlainOutputNamesTheFiles()
    {
        var outDir = Path.Combine(run.Runs, "peft-plain");
        var (code, stdout, stderr) = Fta.Run("export", "--model", run.BaseModel, "--adapter", run.Output, "--format", "peft", "--out", outDir);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("copy 2/2 adapter_model.safetensors", stdout);
        Assert.Contains($"exported peft (lora) to {outDir}: adapter_config.json, adapter_model.safetensors", stdout);
    }

    [Theory]
    [InlineData("--format", "merge", "did you mean 'merged'")]
    [InlineData("--dtype", "bf61", "did you mean 'bf16'")]
    public void Export_Typo_SuggestsTheNearestValue(string option, string value, string expected)
    {
        string[] args = ["export", "--model", run.BaseModel, "--adapter", run.Output, "--format", "merged", "--out", Path.Combine(run.Runs, "typo")];
        var i = Array.IndexOf(args, option);
        if (i >= 0)
            args[i + 1] = value;
        else
            args = [.. args, option, value];
        var (code, _, stderr) = Fta.Run(args);
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(run.Runs, "typo")));
    }

    [Fact]
    public void Export_MissingAdapter_NamesThePath()
    {
        var missing = Path.Combine(run.Runs, "no-adapter");
        var (code, _, stderr) = Fta.Run("export", "--model", run.BaseModel, "--adapter", missing, "--format", "merged", "--out", Path.Combine(run.Runs, "x"));
        Assert.Equal(1, code);
        Assert.Contains(missing, stderr);
    }

    [Fact]
    public void Export_Gguf_OfTheRun_WritesAGgufWithTheModelfile_AndTheAdapterAsAGgufAdapter()
    {
        var folder = Path.Combine(run.Runs, "gguf-" + Guid.NewGuid().ToString("N"));
        var model = Path.Combine(folder, "model.gguf");
        var (code, stdout, stderr) = Fta.Run("export", "--run", run.RunId, "--runs-dir", run.Runs, "--format", "gguf", "--quant", "q8_0", "--out", model, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("\"phase\":\"gguf\"", stdout);
        var file = FineTuneAgent.Core.Export.Gguf.GgufFile.Read(model);
        Assert.Equal("qwen3", file.Metadata["general.architecture"].AsString());
        Assert.Contains(file.Tensors, t => t.Name == "blk.0.attn_q.weight" && t.Type == FineTuneAgent.Core.Export.Gguf.GgmlType.Q8_0);
        Assert.True(File.Exists(Path.Combine(folder, "Modelfile")));

        // fta inspect reads it back with our reader; cut short, it is refused naming the file.
        (code, stdout, stderr) = Fta.Run("inspect", model, "--json");
        Assert.True(code == 0, stderr);
        using (var inspected = JsonDocument.Parse(stdout))
        {
            Assert.Equal("qwen3", inspected.RootElement.GetProperty("metadata").GetProperty("general.architecture").GetString());
            Assert.Equal(file.Tensors.Count, inspected.RootElement.GetProperty("tensors").GetArrayLength());
            Assert.Equal(151936, inspected.RootElement.GetProperty("metadata").GetProperty("tokenizer.ggml.tokens").GetProperty("count").GetInt32());
        }
        var truncated = Path.Combine(folder, "truncated.gguf");
        File.WriteAllBytes(truncated, File.ReadAllBytes(model)[..4096]);
        (code, _, stderr) = Fta.Run("inspect", truncated);
        Assert.Equal(1, code);
        Assert.Contains(truncated, stderr);

        var adapter = Path.Combine(folder, "adapter.gguf");
        (code, _, stderr) = Fta.Run("export", "--run", run.RunId, "--runs-dir", run.Runs, "--format", "gguf-adapter", "--out", adapter);
        Assert.True(code == 0, stderr);
        var adapterFile = FineTuneAgent.Core.Export.Gguf.GgufFile.Read(adapter);
        Assert.Equal("adapter", adapterFile.Metadata["general.type"].AsString());
        Assert.Contains(adapterFile.Tensors, t => t.Name.EndsWith(".lora_b", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_ExportTypo_FailsBeforeTraining()
    {
        var runs = Path.Combine(run.Runs, "typo-runs");
        var (code, _, stderr) = Fta.Run("train", "--max-steps", "1", "--export", "peft,gguff", "--runs-dir", runs);
        Assert.Equal(1, code);
        Assert.Contains("--export: unknown value 'gguff'; did you mean 'gguf'?", stderr);
        Assert.False(Directory.Exists(runs));
    }
}
