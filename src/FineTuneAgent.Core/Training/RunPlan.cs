using System.Diagnostics;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Abstractions.Templates;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// A run resolved by <see cref="TrainingJob.Plan"/>, everything its stages need and nothing they produce: the
/// model folder and config, the leased template and method with the parsed settings, chat format and
/// tokenizer, the dataset request, and the quantization of the base (null unless the method quantizes it).
/// Holds the run's plugin leases (the run keeps the plugin builds it started with); the run's owner disposes
/// it once the run has ended. A copy made with <c>with</c> (a retry's request) shares the leases.
/// </summary>
public sealed record RunPlan : IDisposable
{
    private readonly PluginLease<IModelTemplate> _templateLease;
    private readonly PluginLease<IFineTuneMethod> _methodLease;

    internal RunPlan(PluginLease<IModelTemplate> templateLease, PluginLease<IFineTuneMethod> methodLease)
    {
        _templateLease = templateLease;
        _methodLease = methodLease;
    }

    /// <summary>The run as requested; a retry after an out-of-memory changes its micro-batch and accumulation.</summary>
    public required TrainRequest Request { get; init; }

    /// <summary>The model folder (the built-in model's, once written, when the request names none).</summary>
    public required string ModelDirectory { get; init; }

    public required ModelConfig Config { get; init; }

    public IModelTemplate Template => _templateLease.Instance;

    public IFineTuneMethod Method => _methodLease.Instance;

    /// <summary>The request's method settings, parsed and validated by the method (defaults filled in).</summary>
    public required MethodSettings Settings { get; init; }

    public required IChatFormat Format { get; init; }

    public required Tokenizer Tokenizer { get; init; }

    /// <summary>What the dataset stage prepares (files, cutoff, split, packing, seed, cache folder).</summary>
    public required DatasetRequest Dataset { get; init; }

    /// <summary>How the base's projections are stored when the method trains over a quantized base (QLoRA); null otherwise.</summary>
    public QuantizationScheme? Quantization { get; init; }

    /// <summary>Where the quantizer stage keeps quantized bases, by checkpoint digest and scheme.</summary>
    public required string QuantizedBaseCacheDirectory { get; init; }

    /// <summary>Where this process trains the run: the <c>device</c> option resolved on this machine (a data-parallel worker's own device).</summary>
    public required FineTuneAgent.Torch.torch.Device Device { get; init; }

    /// <summary>When the run (this session of it) started, for the summary's elapsed time.</summary>
    public long StartedAt { get; init; } = Stopwatch.GetTimestamp();

    /// <summary>The request's training options with the method's default learning rate filled in.</summary>
    public TrainingOptions Options => Request.Options.ResolvedFor(Method.Name);

    public void Dispose()
    {
        _methodLease.Dispose();
        _templateLease.Dispose();
    }
}
