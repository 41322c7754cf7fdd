namespace FineTuneAgent.Core.Training;

/// <summary>
/// Learning-rate multipliers exactly as Hugging Face transformers' schedules (get_linear_schedule_with_warmup,
/// get_cosine_schedule_with_warmup with num_cycles 0.5, get_constant_schedule, get_constant_schedule_with_warmup)
/// give them to torch's LambdaLR: the optimizer step numbered <c>step</c> from 0 runs at base_lr × Factor(step),
/// so with warmup the first step runs at 0, as in HF.
/// </summary>
public sealed record LrSchedule(string Type, int WarmupSteps, int TotalSteps)
{
    /// <summary>The schedule of a run: warmup_steps when set, else ceil(warmup_ratio × total), as HF's get_warmup_steps.</summary>
    public static LrSchedule For(TrainingOptions options, int totalSteps) =>
        new(options.LrSchedulerType, options.WarmupSteps > 0 ? options.WarmupSteps : (int)Math.Ceiling(options.WarmupRatio * totalSteps), totalSteps);

    public double Factor(int step)
    {
        switch (Type)
        {
            case "constant":
                return 1.0;
            case "constant_with_warmup":
                return step < WarmupSteps ? (double)step / Math.Max(1.0, WarmupSteps) : 1.0;
            case "linear":
                if (step < WarmupSteps)
                    return (double)step / Math.Max(1, WarmupSteps);
                return Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
            case "cosine":
                if (step < WarmupSteps)
                    return (double)step / Math.Max(1, WarmupSteps);
                var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress)));
            default:
                throw new ArgumentException($"unknown lr_scheduler_type \"{Type}\" (known: {string.Join(", ", TrainingOptions.Schedulers)})");
        }
    }
}
