using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// A model as a method adapted it: which parameters train, their optimiser groups, merging for
/// inference and export, and saving what trained. The model itself belongs to the caller.
/// </summary>
public abstract class AdaptedModel(CausalLM model, MethodSettings settings)
{
    public CausalLM Model { get; } = model;

    public MethodSettings Settings { get; } = settings;

    /// <summary>The parameters that receive gradients, by their name in the model.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters =>
        Model.named_parameters().Where(p => p.parameter.requires_grad).ToList();

    /// <summary>
    /// Optimiser groups as the Hugging Face Trainer builds them: no weight decay on biases and
    /// normalisation weights, decay on everything else (DoRA's magnitudes included, as in HF);
    /// a method may split further (LoRA+ gives B and 1-D parameters their own rate).
    /// </summary>
    public abstract IReadOnlyList<optim.ParamGroup> ParameterGroups(double learningRate, double weightDecay);

    /// <summary>Whether the trained deltas are folded into the base weights.</summary>
    public abstract bool IsMerged { get; }

    /// <summary>Folds the trained deltas into the base weights (no-op for Freeze and Full).</summary>
    public abstract void Merge();

    /// <summary>Takes merged deltas back out of the base weights.</summary>
    public abstract void Unmerge();

    /// <summary>
    /// Writes what trained into <paramref name="directory"/>: a PEFT adapter for the LoRA family,
    /// the trained tensors as safetensors for Freeze and Full. Files are written under temporary
    /// names and renamed, so a failure leaves an earlier save intact.
    /// </summary>
    public abstract void Save(string directory, AdapterSaveOptions options);
}

/// <summary>What a save records about the base model (PEFT's base_model_name_or_path, revision).</summary>
public sealed record AdapterSaveOptions(string BaseModelNameOrPath, string? Revision = null);
