using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.TestPlugins.HotSwapMethod;

/// <summary>
/// A method whose answers depend on the build (HOTSWAP_V1 / HOTSWAP_V2), so a test can tell
/// which build served it. Settings are a type of this assembly, so calling it creates objects
/// that live in the plugin's load context.
/// </summary>
public sealed class HotSwapMethod : IFineTuneMethod
{
#if HOTSWAP_V2
    public const string Build = "v2";
#else
    public const string Build = "v1";
#endif

    public string Name => "hotswap";

    public string Description => Build;

    public MethodSettings ParseSettings(JsonObject? settings) =>
        new HotSwapSettings(Build, settings?["steps"]?.GetValue<int>() ?? 1);

    public MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings) =>
        throw new NotSupportedException("a test plugin estimates nothing");

    public AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings) =>
        throw new NotSupportedException("a test plugin adapts nothing");

    public AdaptedModel Load(CausalLM model, IModelTemplate template, string directory) =>
        throw new NotSupportedException("a test plugin loads nothing");
}
