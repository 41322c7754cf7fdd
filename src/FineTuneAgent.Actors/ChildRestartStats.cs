using System.Diagnostics;

namespace FineTuneAgent.Actors;

/// <summary>A child and the restarts counted against its strategy's limit, as Akka's ChildRestartStats.</summary>
public sealed class ChildRestartStats(IActorRef child)
{
    private long _windowStart;

    public IActorRef Child { get; } = child;

    /// <summary>Restarts counted in the current window (or in all, without a window).</summary>
    public int MaxNrOfRetriesCount { get; private set; }

    /// <summary>
    /// Akka's rule: no limit restarts always; a limit without a window counts all restarts; a
    /// window (with a limit, or 1 without) allows that many restarts inside it and starts a new
    /// window when the previous one has passed. Zero retries never restarts.
    /// </summary>
    public bool RequestRestartPermission(int? maxNrOfRetries, TimeSpan? withinTimeRange)
    {
        if (maxNrOfRetries < 1)
        {
            return false;
        }
        if (withinTimeRange is not { } window)
        {
            if (maxNrOfRetries is not { } retries)
            {
                return true;
            }
            MaxNrOfRetriesCount++;
            return MaxNrOfRetriesCount <= retries;
        }
        var allowed = maxNrOfRetries ?? 1;
        var now = Stopwatch.GetTimestamp();
        if (_windowStart == 0)
        {
            _windowStart = now;
        }
        if (Stopwatch.GetElapsedTime(_windowStart, now) <= window)
        {
            MaxNrOfRetriesCount++;
            return MaxNrOfRetriesCount <= allowed;
        }
        MaxNrOfRetriesCount = 1;
        _windowStart = now;
        return true;
    }
}
