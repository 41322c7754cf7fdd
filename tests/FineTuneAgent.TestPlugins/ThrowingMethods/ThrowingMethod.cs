using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.TestPlugins.ThrowingMethods;

/// <summary>The members both throwing methods share; they never get to run.</summary>
public abstract class ThrowingMethod : IFineTuneMethod
{
    public abstract string Name { get; }

    public string Description => "never constructed";

    public MethodSettings ParseSettings(JsonObject? settings) => throw new NotSupportedException();

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings) => throw new NotSupportedException();

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) => throw new NotSupportedException();

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory) => throw new NotSupportedException();
}
