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

    /// <summary>The agent is shutting down: the run stops as a cancel does but is recorded interrupted, to be resumed when the agent starts again.</summary>
    public static CancelJob ForShutdown { get; } = new() { Interrupt = true };

    public bool Interrupt { get; private init; }
}

/// <summary>AgentRoot: cancel run <see cref="RunId"/>, waiting or going; answered <see cref="CancelRequested"/> or a failure (no such run).</summary>
public sealed record CancelRun(string RunId);

/// <summary>The cancel was passed on: a waiting run (<see cref="Was"/> queued) is cancelled already; a running one stops at its next step with a checkpoint.</summary>
public sealed record CancelRequested(string RunId, RunStatus Was);

/// <summary>AgentRoot: queue a run (new or a resume by run id); answered <see cref="RunSubmitted"/> or a failure naming what is wrong.</summary>
public sealed record SubmitRun(StartRun Start);

/// <summary>The run is recorded as queued; <see cref="Position"/> its place in the queue (null: it started already).</summary>
public sealed record RunSubmitted(string RunId, int? Position);

/// <summary>AgentRoot: submit again the runs a previous agent left unfinished; answered <see cref="RunsRecovered"/>.</summary>
public sealed record RecoverRuns
{
    public static RecoverRuns Instance { get; } = new();
}

/// <summary>What became of one unfinished run at start: queued (with what it does), left (another process runs it), failed, skipped.</summary>
public sealed record RecoveredRun(string RunId, string Outcome, string Detail);

public sealed record RunsRecovered(IReadOnlyList<RecoveredRun> Runs);

/// <summary>AgentRoot: stop every running run for a shutdown (checkpoint, recorded interrupted); answered <see cref="RunsStopped"/> once all ended.</summary>
public sealed record ShutdownRuns
{
    public static ShutdownRuns Instance { get; } = new();
}

public sealed record RunsStopped(int Started);

/// <summary>AgentRoot: the queue as it stands; answered <see cref="QueueState"/>.</summary>
public sealed record GetQueue
{
    public static GetQueue Instance { get; } = new();
}

/// <summary>Waiting run ids in order, and running run ids with their device.</summary>
public sealed record QueueState(IReadOnlyList<string> Waiting, IReadOnlyDictionary<string, string> Running);

/// <summary>AgentRoot or JobSupervisor: where run <see cref="RunId"/> is; answered with <see cref="RunStatusReport"/>.</summary>
public sealed record GetRunStatus(string RunId);

/// <summary>
/// A run's state: <see cref="Status"/> null when the agent knows no such run; <see cref="LastStep"/> the last
/// step reported (running runs only); <see cref="Retries"/> the out-of-memory restarts so far.
/// </summary>
public sealed record RunStatusReport(string RunId, RunStatus? Status, int? LastStep, int Retries, string? Error)
{
    /// <summary>A waiting run's place in the queue (1 = next).</summary>
    public int? QueuePosition { get; init; }
}

/// <summary>How a run ended, told once to whoever started it.</summary>
public abstract record JobOutcome(string? RunId);

public sealed record JobCompleted(string RunId, TrainingSummary Summary) : JobOutcome(RunId);

/// <summary>The run failed; <see cref="Reason"/> is what run.json records, <see cref="Cause"/> the exception.</summary>
public sealed record JobFailed(string? RunId, string Reason, Exception Cause) : JobOutcome(RunId);

/// <summary>
/// The run was cancelled (or, <see cref="Interrupted"/>, stopped by the agent's shutdown); <see cref="Checkpoint"/>
/// is the last complete checkpoint to resume from.
/// </summary>
public sealed record JobCancelled(string RunId, string? Checkpoint, bool Interrupted = false) : JobOutcome(RunId);

/// <summary>What a <see cref="JobSupervisor"/> does on failures.</summary>
public sealed record JobPolicy
{
    public static JobPolicy Default { get; } = new();

    /// <summary>Restarts after an out-of-memory (each halves the micro-batch) before the run fails.</summary>
    public int MaxOutOfMemoryRetries { get; init; } = 3;
}
