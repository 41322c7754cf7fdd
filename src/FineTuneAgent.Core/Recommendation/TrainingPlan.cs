using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>One way to train: a method with its settings and a batch shape, and what it would take.</summary>
public sealed record TrainingPlan
{
    /// <summary>Full, Freeze, DoRA, LoRA, QLoRA-8 or QLoRA-4.</summary>
    public required string Label { get; init; }

    /// <summary>The method plugin's name.</summary>
    public required string Method { get; init; }

    public required JsonObject Settings { get; init; }

    public required int MicroBatchSize { get; init; }

    public required int GradientAccumulationSteps { get; init; }

    public required bool GradientCheckpointing { get; init; }

    public required int CutoffLength { get; init; }

    public required MemoryEstimate Estimate { get; init; }

    public required bool Fits { get; init; }

    /// <summary>The LoRA rank for the LoRA family, else null.</summary>
    public int? Rank => Settings["r"]?.GetValue<int>();
}
