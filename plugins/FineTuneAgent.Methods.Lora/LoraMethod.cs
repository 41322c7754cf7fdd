using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.Methods.Lora;

/// <summary>LoRA: low-rank adapters on the chosen projections, the base frozen; saved as a PEFT adapter.</summary>
public sealed class LoraMethod : IFineTuneMethod
{
    public string Name => "lora";

    public string Description => "LoRA: trains low-rank A·B updates of the chosen linear layers; the base stays frozen (PEFT adapter)";

    public MethodSettings ParseSettings(JsonObject? settings)
    {
        var reader = new SettingsReader(Name, settings);
        var s = LoraSettings.Read(reader, Name, useDora: false);
        reader.RejectUnknown();
        return s;
    }

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings) =>
        LoraMemory.Estimate(config, shape, Expect(settings));

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) =>
        LoraAdaptedModel.Inject(model, Expect(settings));

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory) =>
        PeftAdapter.Load(model, directory, Name);

    private LoraSettings Expect(MethodSettings settings) =>
        settings as LoraSettings is { UseDora: false } s && s.Method == Name
            ? s
            : throw new ArgumentException($"settings of method '{settings.Method}' given to '{Name}'", nameof(settings));
}
