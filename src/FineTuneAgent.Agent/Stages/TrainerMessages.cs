using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Stages;

/// <summary>
/// TrainerStage: train <see cref="Request"/>, from its start (<see cref="Checkpoint"/> null) or continuing
/// from a checkpoint (with the request's options, e.g. a supervisor's halved micro-batch).
/// </summary>
public sealed record StartTraining(TrainRequest Request, string? Checkpoint = null);

/// <summary>TrainerStage: continue a run by id, checkpoint folder or output folder (<see cref="TrainingJob.Resume"/>).</summary>
public sealed record ResumeTraining(string RunOrDirectory);

/// <summary>A training event of run <see cref="RunId"/>, told to whoever asked for the training.</summary>
public sealed record TrainingProgress(string RunId, TrainingEvent Event);

/// <summary>TrainerStage's answer when a training finished (otherwise: <see cref="FineTuneAgent.Actors.Status.Failure"/> with the exception).</summary>
public sealed record TrainingFinished(TrainingSummary Summary);

/// <summary>Stop the training: the trainer saves a checkpoint after the step it is in and stops (the answer is a failure with an OperationCanceledException).</summary>
public sealed record CancelTraining
{
    public static CancelTraining Instance { get; } = new();
}
