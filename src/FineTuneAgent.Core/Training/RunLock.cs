namespace FineTuneAgent.Core.Training;

/// <summary>
/// Proof that this process is the one running a run: a <see cref="FileLock"/> on &lt;run folder&gt;/run.lock, held
/// from the run's start to its end. An agent starting after a crash resumes only runs whose lock it can take: a run
/// another live process (a second agent, an in-process `fta train`) is training keeps its lock and is left alone.
/// </summary>
public static class RunLock
{
    public const string FileName = "run.lock";

    /// <summary>Takes the run's lock, or returns null with <paramref name="holder"/> naming who holds it.</summary>
    public static FileLock? TryTake(RunStore store, string runId, out string? holder) =>
        FileLock.TryTake(Path.Combine(store.RunFolder(runId), FileName), out holder);

    /// <summary>Whether some live process holds the run's lock.</summary>
    public static bool IsHeld(RunStore store, string runId) => FileLock.IsHeld(Path.Combine(store.RunFolder(runId), FileName));
}
