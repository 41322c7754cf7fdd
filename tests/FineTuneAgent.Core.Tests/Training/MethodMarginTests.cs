using System.Text.Json.Nodes;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using Xunit.Abstractions;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// Every method, on a tiny Qwen3 and a tiny Llama, lowers the validation loss by a clear margin.
/// The models are the templates' built-in "tiny" shapes (width 64, 2 layers) with a 67-token
/// vocabulary, so that even an adapter over a frozen random embedding can learn. The rows follow
/// one rule (after a 2-token prompt, each token is the previous one plus 3, mod 60): of 40 rows, 32
/// train and the 8 held-out validation rows are never seen by the trainer, but follow the same
/// learnable rule. Validation loss starts at 5.3-5.8 (initializer_range 0.2) and is measured before
/// training (Evaluate) and after 30 steps of 8 rows (about 12 s for all ten on 2 cores). Measured
/// falls: 2.8 (llama freeze) to 4.4 nats (qwen3 full); the margin asserted is 2 nats.
/// </summary>
[Collection(GeneratorCollection.Name)]
public class MethodMarginTests(ITestOutputHelper output)
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    /// <summary>The margin every method must clear: validation loss falls by at least this many nats.</summary>
    private const double Margin = 2.0;

    [Theory]
    [InlineData("qwen3", "lora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("qwen3", "dora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("qwen3", "qlora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("qwen3", "freeze", "{\"freeze_trainable_layers\": 1}", 5e-3)]
    [InlineData("qwen3", "full", "{}", 5e-3)]
    [InlineData("llama", "lora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("llama", "dora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("llama", "qlora", "{\"r\": 8, \"lora_alpha\": 16}", 1e-2)]
    [InlineData("llama", "freeze", "{\"freeze_trainable_layers\": 1}", 5e-3)]
    [InlineData("llama", "full", "{}", 5e-3)]
    public void ValidationLoss_FallsByAClearMargin(string family, string methodName, string settingsJson, double learningRate)
    {
        var host = s_host.Value;
        using var lease = host.AcquireMethod(methodName);
        var method = lease.Instance;
        var template = host.TemplateNamed(family);
        var json = template.BuiltInConfig("tiny");
        json["vocab_size"] = 67;
        json["initializer_range"] = 0.2;
        var config = ModelConfigReader.Parse(json, $"tiny {family}");
        manual_seed(7);
        using var model = template.BuildModel(config, ScalarType.Float32, initialize: true);
        var adapted = method.Adapt(model, template, method.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject()));

        var rows = TinyTraining.Rows(40);
        var train = rows.Take(32).ToList();
        var validation = rows.Skip(32).ToList();
        using var folder = new TempFolder();
        var options = new TrainingOptions
        {
            LearningRate = learningRate,
            MaxSteps = 30,
            PerDeviceTrainBatchSize = 8,
            WarmupRatio = 0.1,
            LrSchedulerType = "cosine",
            SaveSteps = 1000,
        };
        var trainer = new Trainer(adapted, options.ResolvedFor(method.Name), train, validation, folder.Path, TinyTraining.SaveOptions);
        var before = trainer.Evaluate();
        var result = trainer.Train();
        var after = result.ValidationLosses[^1].Loss;

        output.WriteLine($"{family} {methodName}: validation loss {before:F3} → {after:F3} (margin {before - after:F3} nats)");
        Assert.True(after < before - Margin, $"{family} {methodName}: validation loss {before:F3} → {after:F3}, wanted a fall of at least {Margin} nats");
    }
}
