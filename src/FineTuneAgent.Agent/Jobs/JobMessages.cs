using FineTuneAgent.Actors;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>AgentRoot: start a run, new (<see cref="Request"/>) or continued (<see cref="ResumeFrom"/>: run id, checkpoint or output folder).</summary>
public sealed record StartRun
{
    private StartRun(TrainRequest? request, string? resumeFrom)
    {
        Request = request;
        ResumeFrom = resumeFrom;
    }

    public TrainRequest? Request { get; }

    public string? ResumeFrom { get; }

    public static StartRun New(TrainRequest request) => new(request ?? throw new ArgumentNullException(nameof(request)), null);

    public static StartRun Resume(string runOrDirectory) => new(null, runOrDirectory ?? throw new ArgumentNullException(nameof(runOrDirectory)));

    public override string ToString() => Request is { } r ? $"StartRun(new {r.RunId})" : $"StartRun(resume {ResumeFrom})";
}

/// <summary>Told to the starter (and the AgentRoot) once the run id is known; cancel through <see cref="Supervisor"/>.</summary>
public sealed record JobStarted(string RunId, IActorRef Supervisor);

/// <summary>JobSupervisor: cancel the run (the trainer saves a checkpoint and stops; the outcome is <see cref="JobCancelled"/>).</summary>
public sealed record CancelJob
{
    public static CancelJob Instance { get; } = new();
}

/// <summary>AgentRoot: cancel run <see cref="RunId"/>.</summary>
public sealed record CancelRun(string RunId);

/// <summary>AgentRoot or JobSupervisor: where run <see cref="RunId"/> is; answered with <see cref="RunStatusReport"/>.</summary>
public sealed record GetRunStatus(string RunId);

/// <summary>
/// A run's state: <see cref="Status"/> null when the agent knows no such run; <see cref="LastStep"/> the last
/// step reported (running runs only); <see cref="Retries"/> the out-of-memory restarts so far.
/// </summary>
public sealed record RunStatusReport(string RunId, RunStatus? Status, int? LastStep, int Retries, string? Error);

/// <summary>How a run ended, told once to whoever started it.</summary>
public abstract record JobOutcome(string? RunId);

public sealed record JobCompleted(string RunId, TrainingSummary Summary) : JobOutcome(RunId);

/// <summary>The run failed; <see cref="Reason"/> is what run.json records, <see cref="Cause"/> the exception.</summary>
public sealed record JobFailed(string? RunId, string Reason, Exception Cause) : JobOutcome(RunId);

/// <summary>The run was cancelled; <see cref="Checkpoint"/> is the last complete checkpoint to resume from.</summary>
public sealed record JobCancelled(string RunId, string? Checkpoint) : JobOutcome(RunId);

/// <summary>What a <see cref="JobSupervisor"/> does on failures.</summary>
public sealed record JobPolicy
{
    public static JobPolicy Default { get; } = new();

    /// <summary>Restarts after an out-of-memory (each halves the micro-batch) before the run fails.</summary>
    public int MaxOutOfMemoryRetries { get; init; } = 3;
}
