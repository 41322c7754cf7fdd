using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// TrainerStage: train <see cref="Plan"/>'s run on the prepared <see cref="Data"/> (its base already quantized
/// into the cache when the plan quantizes), from the start (<see cref="Checkpoint"/> null) or continuing from a
/// checkpoint with the plan's request as given (e.g. a supervisor's halved micro-batch).
/// </summary>
public sealed record StartTraining(RunPlan Plan, PreparedDataset Data, string? Checkpoint = null);

/// <summary>A training event of run <see cref="RunId"/>, told to whoever asked for the training.</summary>
public sealed record TrainingProgress(string RunId, TrainingEvent Event);

/// <summary>TrainerStage's answer when a training finished (otherwise: <see cref="FineTuneAgent.Actors.Status.Failure"/> with the exception).</summary>
public sealed record TrainingFinished(TrainingSummary Summary);

/// <summary>Stop the training: the trainer saves a checkpoint after the step it is in and stops (the answer is a failure with an OperationCanceledException).</summary>
public sealed record CancelTraining
{
    public static CancelTraining Instance { get; } = new();
}
