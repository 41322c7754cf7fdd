using System.Runtime.Loader;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests;

public class PluginHostTests
{
    private static string PluginsFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    [Fact]
    public void Load_BuiltPlugins_FindsBothTemplatesInTheirOwnContexts()
    {
        using var host = PluginHost.Load(PluginsFolder);
        Assert.Empty(host.Failures);
        var qwen = host.TemplateFor("qwen3");
        var llama = host.TemplateFor("llama");
        Assert.Equal("qwen3", qwen.Name);
        Assert.Equal("llama", llama.Name);
        // The plugin's types come from a collectible context, the contract from the host's.
        Assert.True(AssemblyLoadContext.GetLoadContext(qwen.GetType().Assembly)!.IsCollectible);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(IModelTemplate).Assembly));
    }

    [Fact]
    public void TemplateFor_UnknownModelType_ListsWhatIsLoaded()
    {
        using var host = PluginHost.Load(PluginsFolder);
        var e = Assert.Throws<KeyNotFoundException>(() => host.TemplateFor("mistral"));
        Assert.Contains("\"mistral\"", e.Message);
        Assert.Contains("qwen3", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [Fact]
    public void Load_BrokenPlugin_IsReportedAndTheOthersStillLoad()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"fta-plugins-{Guid.NewGuid():N}");
        try
        {
            foreach (var dir in Directory.GetDirectories(PluginsFolder))
                CopyDirectory(dir, Path.Combine(folder, Path.GetFileName(dir)));
            var broken = Path.Combine(folder, "FineTuneAgent.Templates.Broken");
            Directory.CreateDirectory(broken);
            File.WriteAllText(Path.Combine(broken, "FineTuneAgent.Templates.Broken.dll"), "not an assembly");
            using var host = PluginHost.Load(folder);
            var failure = Assert.Single(host.Failures);
            Assert.Equal(broken, failure.Folder);
            Assert.Equal(2, host.Templates.Count);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Templates_BuildTheirBuiltInSizes_AndMapEveryTensorToGguf()
    {
        using var host = PluginHost.Load(PluginsFolder);
        foreach (var template in host.Templates)
        {
            var config = ModelConfigReader.Parse(template.BuiltInConfig("tiny"), $"{template.Name} tiny");
            Assert.Contains(config.ModelType, template.ModelTypes);
            using var model = template.BuildModel(config, ScalarType.Float32, initialize: true);
            var names = model.state_dict().Keys.ToList();
            Assert.All(names, n => Assert.NotNull(template.GgufTensorName(n)));
            Assert.Equal(names.Count, names.Select(template.GgufTensorName).Distinct().Count());
            Assert.All(template.DefaultLoraTargets, t => Assert.Contains(names, n => n.Contains($".{t}.", StringComparison.Ordinal)));
        }
        Assert.Equal("blk.3.attn_q_norm.weight", host.TemplateFor("qwen3").GgufTensorName("model.layers.3.self_attn.q_norm.weight"));
        Assert.Equal("token_embd.weight", host.TemplateFor("llama").GgufTensorName("model.embed_tokens.weight"));
        Assert.True(host.TemplateFor("llama").GgufPermutesQueryKey);
        Assert.False(host.TemplateFor("qwen3").GgufPermutesQueryKey);
    }

    [Fact]
    public void LlamaTemplate_ChatFormat_FollowsVocabularyAndRopeScaling()
    {
        using var host = PluginHost.Load(PluginsFolder);
        var llama = host.TemplateFor("llama");
        var llama32 = ModelConfigReader.Parse(llama.BuiltInConfig("tiny"), "3.2");
        Assert.Equal("llama3", llama.ChatFormatFor(llama32));
        var llama30 = (System.Text.Json.Nodes.JsonObject)llama.BuiltInConfig("tiny").DeepClone();
        llama30["rope_scaling"] = null;
        Assert.Equal("llama3.0", llama.ChatFormatFor(ModelConfigReader.Parse(llama30, "3.0")));
        var llama2 = new System.Text.Json.Nodes.JsonObject { ["model_type"] = "llama", ["vocab_size"] = 32000 };
        Assert.Equal("llama2", llama.ChatFormatFor(ModelConfigReader.Parse(llama2, "2")));
        Assert.Equal("qwen3", host.TemplateFor("qwen3").ChatFormatFor(ModelConfigReader.Parse(host.TemplateFor("qwen3").BuiltInConfig("tiny"), "q")));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
