using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.Methods.Lora;

/// <summary>LoRA and DoRA differ only in the magnitude vector: settings, estimate, adaptation and the PEFT format are shared.</summary>
public abstract class LoraFamilyMethod(string name, bool useDora) : IFineTuneMethod
{
    public string Name => name;

    public abstract string Description { get; }

    public MethodSettings ParseSettings(JsonObject? settings)
    {
        var reader = new SettingsReader(Name, settings);
        var s = LoraSettings.Read(reader, Name, useDora);
        reader.RejectUnknown();
        return s;
    }

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings) =>
        LoraMemory.Estimate(config, shape, Expect(settings));

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) =>
        LoraAdaptedModel.Inject(model, Expect(settings));

    public virtual AdaptedModel Load(CausalLM model, IModelTemplate template, string directory)
    {
        var settings = PeftAdapter.ReadConfig(directory, Name);
        if (settings.UseDora != useDora)
            throw new InvalidDataException($"{Path.Combine(directory, PeftAdapter.ConfigFile)}: field 'use_dora': {(settings.UseDora ? "true, this is a DoRA adapter; load it with the dora method" : "false, this is a LoRA adapter; load it with the lora method")}");
        return PeftAdapter.Load(model, directory, Name);
    }

    private LoraSettings Expect(MethodSettings settings) =>
        settings is LoraSettings s && s.UseDora == useDora && s.Method == Name
            ? s
            : throw new ArgumentException($"settings of method '{settings.Method}' given to '{Name}'", nameof(settings));
}
