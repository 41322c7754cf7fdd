namespace FineTuneAgent.Core.Training;

/// <summary>Where a run stands; written as lower-case text in run.json and the history.</summary>
public enum RunStatus
{
    Running,
    Completed,
    Failed,
    Cancelled,

    /// <summary>Submitted to an agent and waiting for the hardware it needs.</summary>
    Queued,

    /// <summary>Stopped by its agent's shutdown after a checkpoint; the agent resumes it when it starts again.</summary>
    Interrupted,
}
