namespace FineTuneAgent.Agent.Daemon;

/// <summary>A device runs can be placed on: its memory budget for training, and whether two runs may share it.</summary>
/// <param name="Id">cpu, cuda:0, …</param>
/// <param name="UsableBytes">Free memory less framework overhead and headroom (<c>MemoryBudget.UsableBytes</c>).</param>
/// <param name="Shareable">
/// Whether a second run may join a running one when the estimates say both fit. GPUs: yes. The CPU: no, since two
/// trainings would split the same cores and each take twice as long, with twice the memory.
/// </param>
public sealed record DeviceSlot(string Id, long UsableBytes, bool Shareable);

/// <summary>A run waiting for a device: its id and the memory estimate of its method at its shape (null: unknown, so it needs a device alone).</summary>
public sealed record QueuedRun(string RunId, long? EstimateBytes);

/// <summary>
/// The agent's run queue: runs start in the order they were submitted, each on a device that can take it. A device
/// with no run takes any run (an estimate above its budget is the trainer's to find out: the out-of-memory retry
/// halves the micro-batch, and the recommender already said what fits). A shareable device with runs takes another
/// only when every estimate is known and all of them together stay within its budget. The head of the queue waits
/// until it fits; later runs do not overtake it, so a large run cannot be starved by a stream of small ones.
/// Not thread-safe: the AgentRoot actor owns it.
/// </summary>
public sealed class RunQueue
{
    private readonly List<DeviceSlot> _devices;
    private readonly List<QueuedRun> _waiting = [];
    private readonly Dictionary<string, (QueuedRun Run, string Device)> _running = new();

    public RunQueue(IEnumerable<DeviceSlot> devices)
    {
        _devices = devices.ToList();
        if (_devices.Count == 0)
            throw new ArgumentException("the run queue needs at least one device", nameof(devices));
        if (_devices.Select(d => d.Id).Distinct().Count() != _devices.Count)
            throw new ArgumentException("device ids must be unique", nameof(devices));
    }

    public IReadOnlyList<DeviceSlot> Devices => _devices;

    public IReadOnlyList<QueuedRun> Waiting => _waiting;

    /// <summary>Adds a run at the end; returns its position (1 = next).</summary>
    public int Enqueue(QueuedRun run)
    {
        if (Contains(run.RunId))
            throw new InvalidOperationException($"run {run.RunId} is already queued or running");
        _waiting.Add(run);
        return _waiting.Count;
    }

    public bool Contains(string runId) => _running.ContainsKey(runId) || _waiting.Any(w => w.RunId == runId);

    /// <summary>The run's place in the queue (1 = next), or null when it is not waiting.</summary>
    public int? PositionOf(string runId)
    {
        var i = _waiting.FindIndex(w => w.RunId == runId);
        return i < 0 ? null : i + 1;
    }

    /// <summary>The device a started run was given, or null.</summary>
    public string? DeviceOf(string runId) => _running.TryGetValue(runId, out var r) ? r.Device : null;

    /// <summary>Takes a waiting run out of the queue (it was cancelled before it started).</summary>
    public bool RemoveWaiting(string runId) => _waiting.RemoveAll(w => w.RunId == runId) > 0;

    /// <summary>A started run ended: its device is free again.</summary>
    public bool Finished(string runId) => _running.Remove(runId);

    /// <summary>Removes and returns the runs that can start now, in order, each with its device.</summary>
    public IReadOnlyList<(QueuedRun Run, string Device)> TakeStartable()
    {
        var started = new List<(QueuedRun, string)>();
        while (_waiting.Count > 0 && PlaceFor(_waiting[0]) is { } device)
        {
            var run = _waiting[0];
            _waiting.RemoveAt(0);
            _running[run.RunId] = (run, device.Id);
            started.Add((run, device.Id));
        }
        return started;
    }

    /// <summary>An empty device first (the one with the most memory), else a shareable one where the run fits beside the others.</summary>
    private DeviceSlot? PlaceFor(QueuedRun run)
    {
        var byDevice = _devices.ToDictionary(d => d.Id, _ => new List<QueuedRun>());
        foreach (var (r, device) in _running.Values)
            byDevice[device].Add(r);
        var empty = _devices.Where(d => byDevice[d.Id].Count == 0).MaxBy(d => d.UsableBytes);
        if (empty is not null)
            return empty;
        if (run.EstimateBytes is not { } need)
            return null;
        return _devices
            .Where(d => d.Shareable && byDevice[d.Id].All(r => r.EstimateBytes is not null))
            .Select(d => (Device: d, Left: d.UsableBytes - byDevice[d.Id].Sum(r => r.EstimateBytes!.Value)))
            .Where(x => x.Left >= need)
            .OrderByDescending(x => x.Left)
            .Select(x => x.Device)
            .FirstOrDefault();
    }
}
