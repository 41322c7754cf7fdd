using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// A tiny Qwen3 (vocabulary 67, width 32, 2 layers) adapted by the real LoRA plugin, and short
/// synthetic rows it can memorise: what the trainer tests train in a second or two.
/// </summary>
internal sealed class TinyTraining : IDisposable
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    private TinyTraining(CausalLM model, AdaptedModel adapted, IFineTuneMethod method, IModelTemplate template)
    {
        Model = model;
        Adapted = adapted;
        Method = method;
        Template = template;
    }

    public CausalLM Model { get; }

    public AdaptedModel Adapted { get; }

    public IFineTuneMethod Method { get; }

    public IModelTemplate Template { get; }

    public static AdapterSaveOptions SaveOptions { get; } = new("tiny-test-model");

    public static ModelConfig Config { get; } = ModelConfigReader.Parse(new JsonObject
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
        ["model_type"] = "qwen3",
        ["vocab_size"] = 67,
        ["hidden_size"] = 32,
        ["intermediate_size"] = 48,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["head_dim"] = 16,
        ["max_position_embeddings"] = 128,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 1000000.0,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "float32",
        ["initializer_range"] = 0.2,
    }, "tiny config.json");

    /// <summary>A fresh model (weights from <paramref name="seed"/>) with LoRA from the plugin.</summary>
    public static TinyTraining Lora(string settingsJson = "{\"r\": 4, \"lora_alpha\": 8}", long seed = 7) => With("lora", settingsJson, seed);

    /// <summary>A fresh model (weights from <paramref name="seed"/>) adapted by the method plugin named.</summary>
    public static TinyTraining With(string methodName, string settingsJson = "{}", long seed = 7)
    {
        var method = s_host.Value.Method(methodName);
        var template = s_host.Value.TemplateNamed("qwen3");
        manual_seed(seed);
        var model = template.BuildModel(Config, ScalarType.Float32, initialize: true);
        var adapted = method.Adapt(model, template, method.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject()));
        return new TinyTraining(model, adapted, method, template);
    }

    /// <summary>The same base model (same seed) with the adapter a checkpoint saved.</summary>
    public static TinyTraining LoraFrom(string checkpoint, long seed = 7)
    {
        var method = s_host.Value.Method("lora");
        var template = s_host.Value.TemplateNamed("qwen3");
        manual_seed(seed);
        var model = template.BuildModel(Config, ScalarType.Float32, initialize: true);
        return new TinyTraining(model, method.Load(model, template, checkpoint), method, template);
    }

    /// <summary>
    /// <paramref name="count"/> rows of lengths 6..13: a fixed 2-token prompt (no loss) then a
    /// deterministic pattern to memorise.
    /// </summary>
    public static IReadOnlyList<TrainingSequence> Rows(int count, int seed = 1)
    {
        var rows = new List<TrainingSequence>();
        for (var r = 0; r < count; r++)
        {
            var length = 6 + (r * 5 + seed) % 8;
            var ids = new int[length];
            var labels = new int[length];
            for (var i = 0; i < length; i++)
            {
                ids[i] = i < 2 ? 1 + r % 3 : 3 + (r * 7 + i * (seed + 2)) % 60;
                labels[i] = i < 2 ? TokenizedExample.IgnoreIndex : ids[i];
            }
            rows.Add(new TrainingSequence(ids, labels, [0]));
        }
        return rows;
    }

    public Trainer Trainer(TrainingOptions options, IReadOnlyList<TrainingSequence> train, string output, IReadOnlyList<TrainingSequence>? validation = null,
        LossHeadKind head = LossHeadKind.Chunked) =>
        new(Adapted, options.ResolvedFor(Method.Name), train, validation ?? [], output, SaveOptions) { Head = head };

    /// <summary>The trainable tensors' values by name (copied out).</summary>
    public Dictionary<string, float[]> TrainableValues()
    {
        using var scope = NewDisposeScope();
        return Adapted.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.detach().contiguous().data<float>());
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>A folder under the temp path, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fta-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

/// <summary>An IProgress that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class EventLog(Action<TrainingEvent>? also = null) : IProgress<TrainingEvent>
{
    public List<TrainingEvent> Events { get; } = new();

    public void Report(TrainingEvent value)
    {
        Events.Add(value);
        also?.Invoke(value);
    }

    public IReadOnlyList<StepCompleted> Steps => Events.OfType<StepCompleted>().ToList();
}
