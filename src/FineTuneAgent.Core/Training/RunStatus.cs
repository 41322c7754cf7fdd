namespace FineTuneAgent.Core.Training;

/// <summary>Where a run stands; written as lower-case text in run.json.</summary>
public enum RunStatus
{
    Running,
    Completed,
    Failed,
    Cancelled,
}
