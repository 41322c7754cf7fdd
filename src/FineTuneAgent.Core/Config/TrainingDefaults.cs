using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// agent.training: what a run uses when its request does not say. Defaults are
/// <see cref="TrainingOptions"/>' own, so the two never disagree.
/// </summary>
public sealed record TrainingDefaults : IValidatedSettings
{
    private static readonly TrainingOptions Options = new();

    public static readonly IReadOnlyList<string> Methods = ["auto", "lora", "qlora", "dora", "freeze", "full"];

    public string Method { get; init; } = "auto";

    /// <summary>null: the method's usual rate (1e-4 for the LoRA family, 1e-5 for freeze and full).</summary>
    public double? LearningRate { get; init; } = Options.LearningRate;

    public double NumTrainEpochs { get; init; } = Options.NumTrainEpochs;

    public int PerDeviceTrainBatchSize { get; init; } = Options.PerDeviceTrainBatchSize;

    public int GradientAccumulationSteps { get; init; } = Options.GradientAccumulationSteps;

    public int CutoffLen { get; init; } = Options.CutoffLen;

    public int SaveSteps { get; init; } = Options.SaveSteps;

    public bool Bf16 { get; init; } = Options.Bf16;

    public bool GradientCheckpointing { get; init; } = Options.GradientCheckpointing;

    /// <summary>These defaults over <paramref name="options"/> (or HF's defaults).</summary>
    public TrainingOptions ToTrainingOptions(TrainingOptions? options = null) => (options ?? Options) with
    {
        LearningRate = LearningRate,
        NumTrainEpochs = NumTrainEpochs,
        PerDeviceTrainBatchSize = PerDeviceTrainBatchSize,
        GradientAccumulationSteps = GradientAccumulationSteps,
        CutoffLen = CutoffLen,
        SaveSteps = SaveSteps,
        Bf16 = Bf16,
        GradientCheckpointing = GradientCheckpointing,
    };

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (!Methods.Contains(Method))
            yield return ("method", $"expected one of {string.Join(", ", Methods)}, got \"{Method}\"{FineTuneAgent.Abstractions.Spelling.DidYouMean(Method, Methods)}");
        IReadOnlyList<(string Field, string Message)> problems = [];
        try
        {
            ToTrainingOptions().Validate();
        }
        catch (TrainingOptionsException e)
        {
            problems = e.Errors;
        }
        // TrainingOptions names fields as LLaMA-Factory does (snake_case); the file uses kebab-case.
        foreach (var (field, message) in problems)
            yield return (field.Replace('_', '-'), message);
    }
}
