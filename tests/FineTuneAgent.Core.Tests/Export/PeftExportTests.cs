using FineTuneAgent.Core.Export;

namespace FineTuneAgent.Core.Tests.Export;

/// <summary>PEFT export: the adapter's two files, byte for byte, in a folder of their own; Freeze and Full are told to merge.</summary>
public sealed class PeftExportTests : IDisposable
{
    private readonly ExportFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData("lora")]
    [InlineData("dora")]
    [InlineData("qlora")]
    public void LoraFamily_CopiesConfigAndWeights(string method)
    {
        var baseDir = _fx.BaseModel("qwen3");
        var adapterDir = _fx.Adapter(baseDir, "qwen3", method);
        var outDir = Path.Combine(_fx.Root, "peft-" + method);

        var result = PeftExporter.Export(baseDir, adapterDir, outDir);

        Assert.Equal(method, result.Method);
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.EnumerateFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in result.Files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(adapterDir, file)), File.ReadAllBytes(Path.Combine(outDir, file)));
        // And the exported folder loads as the adapter it was.
        using var ids = ExportFixture.Ids(67);
        var loadAs = method == "dora" ? "dora" : "lora";
        using var fromExport = ExportFixture.AdaptedLogits(baseDir, "qwen3", loadAs, outDir, ids);
        using var fromRun = ExportFixture.AdaptedLogits(baseDir, "qwen3", loadAs, adapterDir, ids);
        Assert.Equal(0f, ExportFixture.MaxAbsDiff(fromExport, fromRun));
    }

    [Theory]
    [InlineData("freeze")]
    [InlineData("full")]
    public void FreezeAndFull_HaveNoPeftAdapter_AndSaySoSuggestingMerged(string method)
    {
        var baseDir = _fx.BaseModel("llama");
        var adapterDir = _fx.Adapter(baseDir, "llama", method);
        var outDir = Path.Combine(_fx.Root, "peft-" + method);
        var e = Assert.Throws<ExportException>(() => PeftExporter.Export(baseDir, adapterDir, outDir));
        Assert.Contains($"{method} save has no PEFT adapter", e.Message);
        Assert.Contains("--format merged", e.Message);
        Assert.False(Directory.Exists(outDir));
    }
}
