using System.Runtime.Loader;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Plugins;

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
    public void Plugins_BuiltTemplates_AreListedAsLoadedTemplatesWithTheirVersionAndFolder()
    {
        using var host = PluginHost.Load(PluginsFolder);
        foreach (var (name, folder) in new[] { ("qwen3", "FineTuneAgent.Templates.Qwen3"), ("llama", "FineTuneAgent.Templates.Llama") })
        {
            var row = Assert.Single(host.Plugins, p => p.Name == name);
            Assert.Equal(PluginKind.Template, row.Kind);
            Assert.Equal(PluginStatus.Loaded, row.Status);
            Assert.Null(row.Reason);
            Assert.Equal(Path.Combine(Path.GetFullPath(PluginsFolder), folder), row.Folder);
            // The assembly's informational version: the project's Version (1.0.0), maybe with the commit after '+'.
            Assert.Matches(@"^1\.0\.0(\+[0-9a-f]+)?$", row.Version);
        }
        // Every plugin folder is listed, whether or not it holds implementations yet.
        Assert.Equal(Directory.GetDirectories(PluginsFolder).Select(Path.GetFileName).Order(), host.Plugins.Select(p => Path.GetFileName(p.Folder)).Distinct().Order());
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
}
