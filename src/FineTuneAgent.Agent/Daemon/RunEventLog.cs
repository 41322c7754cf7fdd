using System.Text.Json.Nodes;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>One event of a run as API clients see it: its number in the run (from 1), its name and its JSON.</summary>
public sealed record RunEventEntry(long Id, string Event, string Json);

/// <summary>
/// The events of one run the agent started, kept in memory in order, so every client of the event stream gets all
/// of them: one connecting late (or reconnecting with Last-Event-ID) is first given what it missed, then waits for
/// more. Written by the run's observer actor, read by any number of HTTP requests; <see cref="Ended"/> once the
/// outcome was appended. Event numbers start at <paramref name="firstId"/>: a resumed run's new log numbers its
/// events after the previous attempt's (<see cref="RunEventHub.Start"/>).
/// </summary>
public sealed class RunEventLog(string runId, long firstId = 1)
{
    private readonly object _gate = new();
    private readonly List<RunEventEntry> _entries = [];
    private TaskCompletionSource _changed = NewSignal();

    public string RunId => runId;

    public bool Ended { get; private set; }

    public long Count
    {
        get
        {
            lock (_gate)
                return _entries.Count;
        }
    }

    /// <summary>The number of the last event appended (one before the first id while there is none).</summary>
    public long LastId
    {
        get
        {
            lock (_gate)
                return firstId + _entries.Count - 1;
        }
    }

    public void Append(string name, JsonObject json, bool last = false)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (Ended)
                return;
            _entries.Add(new RunEventEntry(firstId + _entries.Count, name, json.ToJsonString()));
            Ended = last;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    /// <summary>
    /// The events after <paramref name="afterId"/>; when there are none yet and the run goes on, waits for the next
    /// (or the token). Empty with <see cref="Ended"/> true: the stream is over.
    /// </summary>
    public async Task<IReadOnlyList<RunEventEntry>> After(long afterId, CancellationToken cancellation)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var from = (int)Math.Clamp(afterId - (firstId - 1), 0, _entries.Count);
                if (from < _entries.Count || Ended)
                    return _entries.GetRange(from, _entries.Count - from);
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The event logs of the runs this agent started since it started (the most recent <see cref="Capacity"/> ended ones are kept).</summary>
public sealed class RunEventHub
{
    public const int Capacity = 64;

    private readonly object _gate = new();
    private readonly Dictionary<string, RunEventLog> _logs = new();
    private readonly Queue<string> _order = new();

    /// <summary>The run's log, created empty on first use (a queued run has one before it starts).</summary>
    public RunEventLog For(string runId)
    {
        lock (_gate)
        {
            if (_logs.TryGetValue(runId, out var log))
                return log;
            log = _logs[runId] = new RunEventLog(runId);
            _order.Enqueue(runId);
            // Forget the oldest ended logs beyond the capacity; a running run's log is never dropped.
            var scan = _order.Count;
            while (_logs.Count > Capacity && scan-- > 0)
            {
                var oldest = _order.Dequeue();
                if (_logs[oldest].Ended)
                    _logs.Remove(oldest);
                else
                    _order.Enqueue(oldest);
            }
            return log;
        }
    }

    /// <summary>
    /// The log of a new attempt at the run (submitted, resumed or recovered). While an earlier attempt's log has not
    /// ended it is that log; once it has, a new log replaces it, numbering its events after the ended one's. Without
    /// this a resume appended to the ended log, which drops every append: clients saw the old outcome and nothing
    /// of the resumed run. Continuing the numbers means a client reconnecting with the last id it saw of the
    /// previous attempt is given all of the new one.
    /// </summary>
    public RunEventLog Start(string runId)
    {
        lock (_gate)
        {
            if (_logs.TryGetValue(runId, out var previous) && previous.Ended)
                return _logs[runId] = new RunEventLog(runId, previous.LastId + 1);
        }
        return For(runId);
    }

    public RunEventLog? Find(string runId)
    {
        lock (_gate)
            return _logs.GetValueOrDefault(runId);
    }
}
