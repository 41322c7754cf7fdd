using System.Text.Json;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Console.Tests;

public sealed class CommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fta-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Version_Json_ReportsLibtorchShimAndDevices()
    {
        var (code, stdout, stderr) = Fta.Run("version", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.StartsWith("1.", doc.RootElement.GetProperty("Libtorch").GetString());
        Assert.Equal(HeaderAbiVersion(), doc.RootElement.GetProperty("ShimAbi").GetInt32());
        Assert.Equal("cpu", doc.RootElement.GetProperty("Devices")[0].GetString());
        Assert.Equal(Environment.ProcessorCount, doc.RootElement.GetProperty("Threads").GetInt32());
    }

    [Theory]
    [InlineData("qwen3", "qwen3")]
    [InlineData("llama", "llama")]
    public void ModelInit_Tiny_WritesALoadableCheckpointWithItsTokenizer_ThatGenerates(string template, string modelType)
    {
        var (code, stdout, stderr) = Fta.Run("model", "init", "--template", template, "--size", "tiny", "--out", _dir, "--seed", "3");
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout);
        foreach (var f in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        var config = ModelConfigReader.Load(Path.Combine(_dir, "config.json"));
        Assert.Equal(modelType, config.ModelType);
        var tokenizerConfig = File.ReadAllText(Path.Combine(_dir, "tokenizer_config.json"));
        Assert.Contains(modelType == "qwen3" ? "<|im_start|>" : "Cutting Knowledge Date", tokenizerConfig);   // the template our chat format renders

        var gen = Fta.Run("generate", "--model", _dir, "--prompt-ids", "100,200,300", "--max-new-tokens", "5", "--json");
        Assert.True(gen.exitCode == 0, gen.stderr);
        using var doc = JsonDocument.Parse(gen.stdout);
        var ids = doc.RootElement.GetProperty("new_ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.InRange(ids.Count, 1, 5);
        Assert.All(ids, id => Assert.InRange(id, 0, config.VocabSize - 1));
    }

    [Fact]
    public void ModelInit_IntoNonEmptyFolder_RefusesAndKeepsWhatIsThere()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "keep.txt"), "precious");
        var (code, _, stderr) = Fta.Run("model", "init", "--template", "qwen3", "--out", _dir);
        Assert.Equal(1, code);
        Assert.Contains("is not empty", stderr);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(_dir, "keep.txt")));
    }

    [Fact]
    public void BadInput_GivesOneClearLine_NotAStackTrace()
    {
        var missing = Fta.Run("generate", "--model", _dir, "--prompt-ids", "1");
        Assert.Equal(1, missing.exitCode);
        Assert.Contains($"{_dir}/config.json: file not found", missing.stderr);
        Assert.DoesNotContain("   at ", missing.stderr);
        var template = Fta.Run("model", "init", "--template", "gpt2", "--out", _dir);
        Assert.Equal(1, template.exitCode);
        Assert.Contains("no model template named \"gpt2\" (available: ", template.stderr);
    }

    /// <summary>FTA_ABI_VERSION as the shim's header defines it.</summary>
    private static int HeaderAbiVersion()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "FineTuneAgent.sln")))
            dir = dir.Parent;
        var header = File.ReadAllLines(Path.Combine(dir.FullName, "src", "FineTuneAgent.Torch", "native", "include", "fta_torch.h"));
        return int.Parse(header.Single(l => l.StartsWith("#define FTA_ABI_VERSION ", StringComparison.Ordinal)).Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
    }
}
