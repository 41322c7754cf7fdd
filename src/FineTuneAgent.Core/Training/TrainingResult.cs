namespace FineTuneAgent.Core.Training;

/// <summary>What a <see cref="Trainer.Train"/> call did (this session; a resumed run starts its lists at the resume step).</summary>
public sealed record TrainingResult(
    int Steps,
    int TotalSteps,
    IReadOnlyList<(int Step, double Loss)> StepLosses,
    IReadOnlyList<(int Step, double Loss)> ValidationLosses,
    double? BestValidationLoss,
    int? BestStep,
    bool StoppedEarly,
    string OutputDirectory,
    string? LastCheckpoint,
    TimeSpan Elapsed);
