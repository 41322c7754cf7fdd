using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Methods.Lora;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.Methods.Dora;

/// <summary>
/// DoRA (Liu et al. 2024): LoRA's direction update plus a trained magnitude per output row,
/// y = m ⊙ (W + s·B A) x / ‖W + s·B A‖_row, the norm detached as PEFT does; saved as a PEFT
/// adapter with use_dora and lora_magnitude_vector keys.
/// </summary>
public sealed class DoraMethod : IFineTuneMethod
{
    public string Name => "dora";

    public string Description => "DoRA: LoRA plus a trained magnitude per output row (PEFT adapter with use_dora)";

    public MethodSettings ParseSettings(JsonObject? settings)
    {
        var reader = new SettingsReader(Name, settings);
        var s = LoraSettings.Read(reader, Name, useDora: true);
        reader.RejectUnknown();
        return s;
    }

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings) =>
        LoraMemory.Estimate(config, shape, Expect(settings));

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) =>
        LoraAdaptedModel.Inject(model, Expect(settings));

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory)
    {
        var settings = PeftAdapter.ReadConfig(directory, Name);
        if (!settings.UseDora)
            throw new InvalidDataException($"{Path.Combine(directory, PeftAdapter.ConfigFile)}: field 'use_dora': false, this is a LoRA adapter; load it with the lora method");
        return PeftAdapter.Load(model, directory, Name);
    }

    private LoraSettings Expect(MethodSettings settings) =>
        settings as LoraSettings is { UseDora: true } s && s.Method == Name
            ? s
            : throw new ArgumentException($"settings of method '{settings.Method}' given to '{Name}'", nameof(settings));
}
