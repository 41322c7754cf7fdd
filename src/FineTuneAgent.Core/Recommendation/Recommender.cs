using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// Picks the best-quality method that fits a memory budget (Full &gt; Freeze &gt; DoRA &gt; LoRA &gt;
/// QLoRA-8 &gt; QLoRA-4), with the largest micro-batch that fits (the effective batch kept by
/// accumulation) and gradient checkpointing only when the plan does not fit without it. Every number
/// comes from the method plugins' own estimates, so the recommender and the methods cannot disagree.
/// </summary>
public sealed class Recommender(Func<string, IFineTuneMethod> methods)
{
    /// <summary>The candidates in quality order: a label, the method plugin, its settings.</summary>
    public static IReadOnlyList<(string Label, string Method, string Settings)> Candidates { get; } =
    [
        ("Full", "full", "{}"),
        ("Freeze", "freeze", "{}"),
        ("DoRA", "dora", "{\"r\": 16}"),
        ("LoRA", "lora", "{\"r\": 16}"),
        ("QLoRA-8", "qlora", "{\"r\": 16, \"quant_type\": \"int8\"}"),
        ("QLoRA-4", "qlora", "{\"r\": 16, \"quant_type\": \"nf4\"}"),
    ];

    /// <summary>What to plan for: sequence length, the effective batch to keep, the largest micro-batch to try, dtypes.</summary>
    public sealed record Request
    {
        public int SequenceLength { get; init; } = 1024;

        public int EffectiveBatchSize { get; init; } = 16;

        public int MaxMicroBatchSize { get; init; } = 8;

        /// <summary>bf16 weights and activations (GPUs with bf16); fp32 otherwise.</summary>
        public ScalarType WeightDtype { get; init; } = ScalarType.BFloat16;

        public ScalarType ComputeDtype { get; init; } = ScalarType.BFloat16;
    }

    public Recommendation Recommend(ModelConfig config, string modelName, MemoryBudget budget, Request? request = null)
    {
        var r = request ?? new Request();
        if (r.SequenceLength < 1 || r.EffectiveBatchSize < 1 || r.MaxMicroBatchSize < 1)
            throw new ArgumentException("sequence length, effective batch and micro-batch must be at least 1");
        var fitting = new List<TrainingPlan>();
        var notFitting = new List<TrainingPlan>();
        foreach (var (label, methodName, settingsJson) in Candidates)
        {
            var method = methods(methodName);
            var settings = method.ParseSettings(JsonNode.Parse(settingsJson)!.AsObject());
            var plan = BestShape(config, r, budget, label, methodName, method, settings);
            (plan.Fits ? fitting : notFitting).Add(plan);
        }
        var chosen = fitting.FirstOrDefault();
        return new Recommendation
        {
            Model = modelName,
            Budget = budget,
            Chosen = chosen,
            Alternatives = fitting.Skip(1).ToList(),
            DoesNotFit = notFitting,
            Reasons = Explain(config, modelName, budget, chosen, fitting, notFitting),
        };
    }

    /// <summary>
    /// The plan for one method: micro-batches from the largest down without checkpointing, then the
    /// same with it; the first that fits, or the leanest (micro-batch 1, checkpointed) when none does.
    /// </summary>
    private static TrainingPlan BestShape(ModelConfig config, Request r, MemoryBudget budget, string label, string methodName, IFineTuneMethod method, MethodSettings settings)
    {
        var microBatches = new List<int>();
        for (var mb = Math.Min(r.MaxMicroBatchSize, r.EffectiveBatchSize); mb >= 1; mb /= 2)
            if (r.EffectiveBatchSize % mb == 0)
                microBatches.Add(mb);
        TrainingPlan? leanest = null;
        foreach (var checkpointing in new[] { false, true })
        {
            foreach (var mb in microBatches)
            {
                var shape = new TrainingShape
                {
                    MicroBatchSize = mb,
                    SequenceLength = r.SequenceLength,
                    WeightDtype = r.WeightDtype,
                    ComputeDtype = r.ComputeDtype,
                    GradientCheckpointing = checkpointing,
                    FusedCpuKernels = budget.OnCpu,
                };
                var estimate = method.EstimateMemory(config, shape, settings);
                var plan = new TrainingPlan
                {
                    Label = label,
                    Method = methodName,
                    Settings = settings.ToJson(),
                    MicroBatchSize = mb,
                    GradientAccumulationSteps = r.EffectiveBatchSize / mb,
                    GradientCheckpointing = checkpointing,
                    CutoffLength = r.SequenceLength,
                    Estimate = estimate,
                    Fits = estimate.TotalBytes <= budget.UsableBytes,
                };
                if (plan.Fits)
                    return plan;
                leanest = plan;
            }
        }
        return leanest!;
    }

    private static List<string> Explain(ModelConfig config, string modelName, MemoryBudget budget, TrainingPlan? chosen, List<TrainingPlan> fitting, List<TrainingPlan> notFitting)
    {
        var reasons = new List<string>
        {
            $"{modelName} has {Billions(config.ParameterCount())} parameters; {budget.Device} has {Gb(budget.FreeBytes)} free, of which {Gb(budget.UsableBytes)} is usable after {Gb(budget.FrameworkOverheadBytes)} framework overhead and {budget.Headroom:P0} headroom.",
        };
        if (chosen is null)
        {
            var leanest = notFitting.MinBy(p => p.Estimate.TotalBytes)!;
            reasons.Add($"Nothing fits: even {leanest.Label} at micro-batch 1 with gradient checkpointing needs {Gb(leanest.Estimate.TotalBytes)}. Use a GPU with more free memory, a shorter cutoff length, or pool workstations.");
            return reasons;
        }
        var better = notFitting.Where(p => Rank(p.Label) < Rank(chosen.Label)).ToList();
        var e = chosen.Estimate;
        reasons.Add($"{chosen.Label} is the best-quality method that fits: {Gb(e.TotalBytes)} of {Gb(budget.UsableBytes)} usable ({Breakdown(e)}).");
        foreach (var p in better)
            reasons.Add($"{p.Label} does not fit: it needs {Gb(p.Estimate.TotalBytes)} even at micro-batch 1 with gradient checkpointing ({Breakdown(p.Estimate)}).");
        reasons.Add($"Micro-batch {chosen.MicroBatchSize} × {chosen.GradientAccumulationSteps} accumulation steps, cutoff length {chosen.CutoffLength}" +
            (chosen.GradientCheckpointing
                ? $"; gradient checkpointing on (activations {Gb(e.CheckpointedActivationBytes)} instead of {Gb(e.ActivationBytes)})."
                : $"; no gradient checkpointing needed (activations {Gb(e.ActivationBytes)})."));
        if (fitting.Count > 1)
            reasons.Add($"Also fit: {string.Join(", ", fitting.Skip(1).Select(p => $"{p.Label} ({Gb(p.Estimate.TotalBytes)})"))}.");
        return reasons;
    }

    private static int Rank(string label) => Candidates.Select((c, i) => (c.Label, i)).First(c => c.Label == label).i;

    private static string Breakdown(MemoryEstimate e) =>
        string.Join(", ", e.Components.Where(c => c.Bytes > 0).Select(c => $"{c.Component} {Gb(c.Bytes)}"));

    public static string Gb(long bytes) => (bytes / 1e9).ToString("F1", CultureInfo.InvariantCulture) + " GB";

    private static string Billions(long count) => count >= 1e9
        ? (count / 1e9).ToString("F2", CultureInfo.InvariantCulture) + "B"
        : (count / 1e6).ToString("F0", CultureInfo.InvariantCulture) + "M";
}
