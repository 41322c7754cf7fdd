using System.Runtime.Loader;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Plugins;

/// <summary>
/// The five method plugins as the agent meets them: loaded by the host into their own contexts
/// (DoRA and QLoRA each with a private copy of the LoRA assembly), adapting a model that lives
/// in the default context.
/// </summary>
public class MethodPluginsTests
{
    private static string PluginsFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    [Fact]
    public void AllFiveMethods_Load_EachInItsOwnCollectibleContext()
    {
        using var host = PluginHost.Load(PluginsFolder);
        Assert.Empty(host.Failures);
        var names = new[] { "dora", "freeze", "full", "lora", "qlora" };
        Assert.Equal(names, host.Methods.Select(m => m.Name).Order(StringComparer.Ordinal));
        var contexts = names.Select(n => AssemblyLoadContext.GetLoadContext(host.Method(n).GetType().Assembly)!).ToList();
        Assert.All(contexts, c => Assert.True(c.IsCollectible));
        Assert.Equal(5, contexts.Distinct().Count());
        // DoRA's context holds its own copy of the LoRA assembly; LoRA's context holds the other.
        var loraInDora = contexts[0].Assemblies.Single(a => a.GetName().Name == "FineTuneAgent.Methods.Lora");
        var loraItself = contexts[3].Assemblies.Single(a => a.GetName().Name == "FineTuneAgent.Methods.Lora");
        Assert.NotSame(loraInDora, loraItself);
    }

    [Theory]
    [InlineData("lora", "{\"r\": 2}")]
    [InlineData("dora", "{\"r\": 2, \"target_modules\": [\"q_proj\"]}")]
    [InlineData("qlora", "{\"r\": 2}")]
    [InlineData("freeze", "{\"freeze_trainable_layers\": 1}")]
    [InlineData("full", "{}")]
    public void AMethodFromItsPlugin_AdaptsAHostModel_AndTrainsIt(string name, string settingsJson)
    {
        using var host = PluginHost.Load(PluginsFolder);
        using var lease = host.AcquireMethod(name);
        var template = host.TemplateNamed("qwen3");
        var config = ModelConfigReader.Parse(template.BuiltInConfig("tiny"), "tiny");
        manual_seed(3);
        using var model = template.BuildModel(config with { NumHiddenLayers = 2 }, ScalarType.Float32, initialize: true);
        var settings = lease.Instance.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject());
        var estimate = lease.Instance.EstimateMemory(model.Config, new TrainingShape(), settings);
        var adapted = lease.Instance.Adapt(model, template, settings);
        Assert.Equal(estimate.TrainableParameters, adapted.TrainableParameters.Sum(p => p.Parameter.numel()));
        using var optimizer = optim.AdamW(adapted.ParameterGroups(1e-3, 0), lr: 1e-3);
        using var scope = NewDisposeScope();
        var ids = randint(0, config.VocabSize, [1, 8]);
        var loss = Modeling.Layers.CausalLM.CausalLmLoss(model.forward(ids), ids);
        loss.backward();
        optimizer.step();
        Assert.True(double.IsFinite(loss.ToDouble()));
        Assert.NotEmpty(adapted.TrainableParameters);
    }
}
