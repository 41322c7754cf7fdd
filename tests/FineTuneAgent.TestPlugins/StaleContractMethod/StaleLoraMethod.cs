using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.TestPlugins.StaleContractMethod;

/// <summary>A "lora" method written for the older contract: it lacks ParseSettings, EstimateMemory, Adapt and Load.</summary>
public sealed class StaleLoraMethod : IFineTuneMethod
{
    public string Name => "lora";

    public string Description => "LoRA for an older agent";

    public void Train(string dataset)
    {
    }
}
