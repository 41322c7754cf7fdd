using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// A fine-tuning method as a plugin (plugins/FineTuneAgent.Methods.*): reads its settings,
/// estimates its memory for a model and a training shape, adapts a model (wraps linears, marks
/// what trains), and saves and loads what it trained (PEFT format where one exists).
/// </summary>
public interface IFineTuneMethod
{
    /// <summary>The method's name as users type it: "lora", "dora", "qlora", "freeze", "full".</summary>
    string Name { get; }

    /// <summary>One line for listings.</summary>
    string Description { get; }

    /// <summary>
    /// Validates settings (a JSON object from the run configuration; null means all defaults) and
    /// fills in defaults. An unknown key, a wrong type or an out-of-range value is a
    /// <see cref="MethodSettingsException"/> naming the field.
    /// </summary>
    MethodSettings ParseSettings(JsonObject? settings);

    /// <summary>Memory for training a model of this config with these settings and this shape.</summary>
    MemoryEstimate EstimateMemory(ModelConfig config, TrainingShape shape, MethodSettings settings);

    /// <summary>
    /// Adapts a freshly loaded model in place for training (wrapping, quantizing, freezing) and
    /// returns the handle that knows what trains and how to save it. The model stays owned by the
    /// caller; the handle must not outlive it.
    /// </summary>
    AdaptedModel Adapt(CausalLM model, IModelTemplate template, MethodSettings settings);

    /// <summary>
    /// Adapts a model with what an earlier run saved in <paramref name="directory"/> (a PEFT
    /// adapter for the LoRA family, trained tensors for Freeze and Full), ready to continue
    /// training or to merge for export.
    /// </summary>
    AdaptedModel Load(CausalLM model, IModelTemplate template, string directory);
}
