using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export;

namespace FineTuneAgent.Core.Tests.Export;

/// <summary>Bad export input fails before anything is written, with an error that names the path, tensor or option.</summary>
public sealed class ExportInputTests : IDisposable
{
    private readonly ExportFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void MissingAdapterFolder_NamesIt()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var missing = Path.Combine(_fx.Root, "no-such-adapter");
        var e = Assert.Throws<DirectoryNotFoundException>(() => MergedExporter.Export(ExportFixture.Host.Value, baseDir, missing, Path.Combine(_fx.Root, "out")));
        Assert.Contains(missing, e.Message);
        Assert.False(Directory.Exists(Path.Combine(_fx.Root, "out")));
    }

    [Fact]
    public void FolderWithoutAdapterFiles_NamesBothMarkerFiles_AndHintsAtCheckpoints()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var empty = Path.Combine(_fx.Root, "not-an-adapter");
        Directory.CreateDirectory(Path.Combine(empty, "checkpoint-10"));
        var e = Assert.Throws<FileNotFoundException>(() => MergedExporter.Export(ExportFixture.Host.Value, baseDir, empty, Path.Combine(_fx.Root, "out")));
        Assert.Contains(empty, e.Message);
        Assert.Contains("adapter_config.json", e.Message);
        Assert.Contains("fta_method.json", e.Message);
        Assert.Contains("checkpoints", e.Message);
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("freeze")]
    [InlineData("full")]
    public void AdapterForAnotherBase_NamesTheTensorAndShapes_AndWritesNothing(string method)
    {
        // Same family and names, wider MLP: only the shapes tell the two models apart.
        var wide = ExportFixture.ConfigJson("qwen3");
        wide["intermediate_size"] = 96;
        var otherBase = _fx.BaseModel("qwen3", config: wide, name: "base-wide");
        var adapterDir = _fx.Adapter(otherBase, "qwen3", method);
        var baseDir = _fx.BaseModel("qwen3");
        var outDir = Path.Combine(_fx.Root, "out-" + method);

        var e = Assert.Throws<InvalidDataException>(() => MergedExporter.Export(ExportFixture.Host.Value, baseDir, adapterDir, outDir));
        Assert.Contains("mlp.", e.Message);
        Assert.Contains("has shape [", e.Message);
        Assert.Contains(baseDir, e.Message);
        Assert.False(Directory.Exists(outDir));
        if (method == "lora")
            Assert.Throws<InvalidDataException>(() => PeftExporter.Export(baseDir, adapterDir, outDir));
    }

    [Fact]
    public void AdapterOfAModuleTheBaseLacks_SaysSo()
    {
        var deep = ExportFixture.ConfigJson("llama");
        deep["num_hidden_layers"] = 3;
        var otherBase = _fx.BaseModel("llama", config: deep, name: "base-deep");
        var adapterDir = _fx.Adapter(otherBase, "llama", "dora");
        var e = Assert.Throws<InvalidDataException>(() => MergedExporter.Export(ExportFixture.Host.Value, _fx.BaseModel("llama"), adapterDir, Path.Combine(_fx.Root, "out")));
        Assert.Contains("model.layers.2.", e.Message);
        Assert.Contains("another model", e.Message);
    }

    [Fact]
    public void ExistingOutput_IsNeverOverwritten()
    {
        var baseDir = _fx.BaseModel("qwen3");
        var outDir = Path.Combine(_fx.Root, "taken");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        var e = Assert.Throws<ExportException>(() => MergedExporter.Export(ExportFixture.Host.Value, baseDir, null, outDir));
        Assert.Contains(outDir, e.Message);
        Assert.Equal(["keep.txt"], Directory.EnumerateFiles(outDir).Select(Path.GetFileName));
    }

    [Fact]
    public void AdapterFailingToLoad_LeavesNoFolderUnderTheFinalName()
    {
        // The header check passes (shapes fit) but the config's rank disagrees with the tensors: the plugin refuses.
        var baseDir = _fx.BaseModel("qwen3");
        var adapterDir = _fx.Adapter(baseDir, "qwen3", "lora");
        var broken = Path.Combine(_fx.Root, "broken-adapter");
        Directory.CreateDirectory(broken);
        File.Copy(Path.Combine(adapterDir, "adapter_model.safetensors"), Path.Combine(broken, "adapter_model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(adapterDir, "adapter_config.json")))!.AsObject();
        config["r"] = 8;
        File.WriteAllText(Path.Combine(broken, "adapter_config.json"), config.ToJsonString());
        var outDir = Path.Combine(_fx.Root, "never");

        var e = Assert.Throws<InvalidDataException>(() => MergedExporter.Export(ExportFixture.Host.Value, baseDir, broken, outDir));
        Assert.Contains("rank", e.Message);
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(Directory.EnumerateDirectories(_fx.Root, ".*"));
    }

    [Theory]
    [InlineData("merge", "merged")]
    [InlineData("PEFT", null)]
    [InlineData("ggfu", "gguf")]
    public void Format_UnknownValue_SuggestsTheNearest(string typed, string? suggestion)
    {
        if (suggestion is null)
        {
            Assert.Equal(ExportFormat.Peft, ExportChoices.Format(typed));
            return;
        }
        var e = Assert.Throws<ArgumentException>(() => ExportChoices.Format(typed));
        Assert.Contains($"did you mean '{suggestion}'", e.Message);
        Assert.Contains("--format", e.Message);
    }

    [Fact]
    public void DTypeAndQuant_ParseTheirNames_AndSuggestOnTypos()
    {
        Assert.Equal(FineTuneAgent.Torch.torch.ScalarType.BFloat16, ExportChoices.DType("bfloat16"));
        Assert.Equal(FineTuneAgent.Torch.torch.ScalarType.Float16, ExportChoices.DType("F16"));
        Assert.Contains("did you mean 'bf16'", Assert.Throws<ArgumentException>(() => ExportChoices.DType("bf61")).Message);
        Assert.Equal("q4_0", ExportChoices.Quant("Q4_0"));
        Assert.Contains("did you mean 'q8_0'", Assert.Throws<ArgumentException>(() => ExportChoices.Quant("q8")).Message);
        Assert.Equal([ExportFormat.Peft, ExportFormat.Gguf], ExportChoices.FormatList("peft, gguf,peft"));
    }

    [Fact]
    public void MaxShardSize_NotASize_IsAnOptionError()
    {
        var e = Assert.Throws<ArgumentException>(() => MergedExporter.Export(ExportFixture.Host.Value, _fx.BaseModel("qwen3"), null, Path.Combine(_fx.Root, "o"),
            new MergedExportOptions { MaxShardSize = "5 gigs" }));
        Assert.Contains("--max-shard-size", e.Message);
    }
}
