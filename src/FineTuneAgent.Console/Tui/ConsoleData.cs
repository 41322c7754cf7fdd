using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tui;

/// <summary>One run as the console lists it: the history's row, with live progress from its event stream while it runs.</summary>
internal sealed record RunRow(string Id, string Status, string? Method, string? Model, int Steps, int? TotalSteps, double? Loss,
    double? TokensPerSecond, double? EtaSeconds, string? Error, string? Created);

/// <summary>What the console shows, as of <see cref="At"/>; replaced whole by the poller, so a frame never mixes two states.</summary>
internal sealed record ConsoleSnapshot(JsonObject? Node, IReadOnlyList<RunRow> Runs, JsonObject? Plugins, string? Problem, DateTimeOffset At)
{
    public static ConsoleSnapshot Empty { get; } = new(null, [], null, null, DateTimeOffset.MinValue);

    /// <summary>The pool as the agent sees it (`GET /cluster/members`), null before the first answer.</summary>
    public JsonObject? Pool { get; init; }
}

/// <summary>
/// Keeps the console's picture of the agent fresh: polls node, runs and plugins every second (node and plugins less
/// often), follows the event stream of every run that is queued or running (for progress, tokens/s, ETA and the log
/// lines), and fetches the selected run's details (metrics for its chart, evaluations, artefacts) on demand.
/// A failing agent becomes <see cref="ConsoleSnapshot.Problem"/>, shown on screen, and polling goes on.
/// </summary>
internal sealed class ConsoleData : IDisposable
{
    private const int LogCapacity = 200;
    private readonly AgentClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, JsonObject> _lastStep = new();
    private readonly ConcurrentDictionary<string, Task> _followers = new();
    private readonly ConcurrentQueue<string> _log = new();
    private readonly ConcurrentDictionary<string, JsonObject> _details = new();
    private readonly Task _poller;
    private volatile ConsoleSnapshot _snapshot = ConsoleSnapshot.Empty;
    private volatile string? _selected;
    private int _ticks;

    public ConsoleData(AgentClient client)
    {
        _client = client;
        _poller = Task.Run(Poll);
    }

    public AgentClient Client => _client;

    public ConsoleSnapshot Snapshot => _snapshot;

    /// <summary>Raised (on the poller's thread) whenever something new arrived, so the screen redraws.</summary>
    public event Action? Changed;

    /// <summary>The run whose details are kept fresh (its chart, evaluations, artefacts).</summary>
    public string? Selected
    {
        get => _selected;
        set => _selected = value;
    }

    public JsonObject? Details(string runId) => _details.GetValueOrDefault(runId);

    /// <summary>The most recent log lines (events of the runs this console followed), oldest first.</summary>
    public IReadOnlyList<string> Log => _log.ToArray();

    /// <summary>Asks for a fresh poll now (after an action).</summary>
    public void Refresh() => Interlocked.Exchange(ref _ticks, 0);

    private async Task Poll()
    {
        var sinceNode = int.MaxValue;
        JsonObject? node = null, plugins = null, pool = null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (sinceNode++ >= 5 || node is null)
                {
                    node = await Task.Run(() => _client.Get("api/v1/node"));
                    plugins = await Task.Run(() => _client.Get("api/v1/plugins"));
                    pool = await Task.Run(() => _client.Get("api/v1/cluster/members"));
                    sinceNode = 0;
                }
                var runs = await Task.Run(() => _client.Get("api/v1/runs?limit=200"));
                var rows = Rows(runs);
                foreach (var row in rows.Where(r => r.Status is "running" or "queued"))
                    Follow(row.Id);
                if (_selected is { } id)
                    _details[id] = await Task.Run(() => _client.Get($"api/v1/runs/{Uri.EscapeDataString(id)}"));
                _snapshot = new ConsoleSnapshot(node, rows, plugins, null, DateTimeOffset.Now) { Pool = pool };
            }
            catch (Exception e) when (e is AgentRequestException or ArgumentException or UnauthorizedAccessException or IOException or HttpRequestException
                                          or System.Text.Json.JsonException or InvalidOperationException)
            {
                _snapshot = _snapshot with { Problem = e.Message, At = DateTimeOffset.Now };
                node = null;
            }
            Changed?.Invoke();
            for (Interlocked.Exchange(ref _ticks, 10); Interlocked.Decrement(ref _ticks) > 0 && !_stop.IsCancellationRequested;)
                await Task.Delay(100).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private IReadOnlyList<RunRow> Rows(JsonObject runs)
    {
        var rows = new List<RunRow>();
        foreach (var r in runs["runs"]!.AsArray().OfType<JsonObject>())
        {
            var id = (string)r["id"]!;
            var stats = r["stats"] as JsonObject;
            var live = _lastStep.GetValueOrDefault(id);
            var status = (string?)r["status"] ?? "?";
            rows.Add(new RunRow(id, status, (string?)r["method"], ModelName((string?)r["model"]),
                Math.Max((int?)stats?["steps"] ?? 0, (int?)live?["step"] ?? 0),
                (int?)live?["total_steps"], (double?)stats?["last_train_loss"] ?? (double?)live?["loss"],
                status == "running" ? (double?)live?["tokens_per_second"] : null,
                status == "running" ? (double?)live?["eta_seconds"] : null,
                (string?)r["error"], (string?)r["created_at"]));
        }
        return rows;
    }

    private static string? ModelName(string? path) => path is null ? null : Path.GetFileName(path.TrimEnd('/'));

    /// <summary>Follows a run's event stream once (until its outcome), keeping its last step and log lines.</summary>
    private void Follow(string runId) => _followers.GetOrAdd(runId, id => Task.Run(() =>
    {
        long last = 0;
        for (var attempt = 0; attempt < 5 && !_stop.IsCancellationRequested; attempt++)
        {
            try
            {
                foreach (var (n, e) in _client.Events(id, last, _stop.Token))
                {
                    last = n;
                    var name = (string?)e["event"];
                    if (name == "step")
                        _lastStep[id] = e;
                    if (LogLine(id, name, e) is { } line)
                    {
                        _log.Enqueue(line);
                        while (_log.Count > LogCapacity)
                            _log.TryDequeue(out _);
                    }
                    Changed?.Invoke();
                    if (name == "outcome")
                        return;
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or AgentRequestException or ArgumentException or OperationCanceledException)
            {
                Thread.Sleep(500);
            }
        }
    }));

    private static string? LogLine(string runId, string? name, JsonObject e)
    {
        var who = runId.Length > 6 ? runId[^6..] : runId;
        return name switch
        {
            "message" => $"{who} {e["text"]}",
            "stage" => $"{who} stage {e["stage"]}",
            "queued" => $"{who} queued at {e["position"]}{(e["recovered"] is { } r ? $" ({r})" : "")}",
            "started" => $"{who} started on {e["device"]}",
            "step" => $"{who} step {e["step"]}/{e["total_steps"]} loss {(double?)e["loss"]:F4}",
            "eval" => $"{who} eval at step {e["step"]}: loss {(double?)e["eval_loss"]:F4}",
            "checkpoint" => $"{who} checkpoint {e["step"]}",
            "evaluation" => $"{who} evaluation: loss {(double?)e["base_loss"]:F3} → {(double?)e["tuned_loss"]:F3}",
            "export" => $"{who} exported {e["format"]} to {e["path"]}",
            "outcome" => $"{who} {e["status"]}{(e["error"] is { } err ? $": {err}" : "")}",
            _ => null,
        };
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _poller.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
