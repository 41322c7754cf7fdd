namespace FineTuneAgent.Core.Training;

/// <summary>What a <see cref="Trainer"/> reports while it runs (immutable; no tensors).</summary>
public abstract record TrainingEvent;

/// <summary>
/// A logged optimizer step. <see cref="Loss"/> is the mean of the step losses since the previous
/// logged step (HF's logging), each the token-mean over the step's whole effective batch;
/// <see cref="LearningRate"/> is the first group's rate this step ran at; <see cref="GradNorm"/> the
/// joint gradient norm before clipping.
/// </summary>
public sealed record StepCompleted(
    int Step,
    int TotalSteps,
    double Epoch,
    double Loss,
    double LearningRate,
    double GradNorm,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Eta) : TrainingEvent;

/// <summary>Validation loss (token mean over the validation rows) after <see cref="Step"/>.</summary>
public sealed record EvaluationCompleted(int Step, double ValidationLoss, bool IsBest, int EvaluationsWithoutImprovement) : TrainingEvent;

/// <summary>A checkpoint folder was completed (renamed into place).</summary>
public sealed record CheckpointSaved(int Step, string Path) : TrainingEvent;

/// <summary>Training stopped early: validation loss did not improve for the patience.</summary>
public sealed record EarlyStopped(int Step, int Patience, double BestValidationLoss, int BestStep) : TrainingEvent;

/// <summary>A line about preparing the run (model, data, method choice) before the steps start.</summary>
public sealed record JobMessage(string Text) : TrainingEvent;

/// <summary>
/// The run ran out of memory at <see cref="FailedStep"/> and a supervisor restarts it from
/// <see cref="Checkpoint"/> (null: from the start) with a micro-batch of <see cref="MicroBatchSize"/> and
/// <see cref="GradientAccumulationSteps"/> accumulation steps (the same effective batch); retry
/// <see cref="Attempt"/> of at most <see cref="MaxAttempts"/>.
/// </summary>
public sealed record TrainingRetried(
    int Attempt,
    int MaxAttempts,
    int FailedStep,
    int FromStep,
    string? Checkpoint,
    int MicroBatchSize,
    int GradientAccumulationSteps,
    string Reason) : TrainingEvent;
