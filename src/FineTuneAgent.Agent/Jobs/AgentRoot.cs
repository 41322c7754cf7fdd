using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Agent.Daemon;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>
/// The agent's root. Two ways in:
/// <list type="bullet">
/// <item><see cref="StartRun"/> starts a <see cref="JobSupervisor"/> at once; the sender gets the run's progress and
/// outcome (`fta train` in-process).</item>
/// <item><see cref="SubmitRun"/> (the daemon) records the run as queued (run.json and the history) and puts it in
/// the <see cref="RunQueue"/>; it starts when a device can take it, with a run observer as its client that writes
/// every event into the run's <see cref="RunEventLog"/> for the API's event streams. <see cref="RecoverRuns"/>
/// submits again what a previous agent left queued, running (it died) or interrupted (it was stopped).</item>
/// </list>
/// It cancels runs, waiting or going (<see cref="CancelRun"/>), stops them all for a shutdown
/// (<see cref="ShutdownRuns"/>: checkpoint, recorded interrupted), and answers <see cref="GetRunStatus"/>: a running run
/// from its supervisor, a waiting one with its place, any other from the run store. A supervisor that stops without
/// an outcome (it crashed) is reported as failed. With a history writer, every run is recorded there too.
/// </summary>
public sealed class AgentRoot : ReceiveActor
{
    private static readonly TimeSpan s_statusPatience = TimeSpan.FromSeconds(20);

    private readonly TrainingJob _job;
    private readonly JobPolicy _policy;
    private readonly IActorRef? _history;
    private readonly RunQueue _queue;
    private readonly RunEventHub _events;
    private readonly Dictionary<string, IActorRef> _running = new();
    private readonly Dictionary<IActorRef, IActorRef> _starters = new();
    private readonly Dictionary<IActorRef, string> _queuedSupervisors = new();
    private readonly Dictionary<string, StartRun> _waiting = new();
    private readonly List<IActorRef> _shutdownWaiters = [];
    private readonly HashSet<PendingStatusQuery> _statusQueries = [];
    private bool _shuttingDown;
    private int _started;

    public AgentRoot(TrainingJob job, JobPolicy? policy = null, IActorRef? history = null, RunQueue? queue = null, RunEventHub? events = null)
    {
        _job = job;
        _policy = policy ?? JobPolicy.Default;
        _history = history;
        _queue = queue ?? new RunQueue([new DeviceSlot("cpu", long.MaxValue, Shareable: false)]);
        _events = events ?? new RunEventHub();
        Receive<StartRun>(start =>
        {
            var starter = Sender;
            var supervisor = Context.ActorOf(Props.Create(() => new JobSupervisor(_job, start, starter, _policy, _history)), $"job-{++_started}");
            Context.Watch(supervisor);
            _starters[supervisor] = starter;
        });
        Receive<SubmitRun>(submit => Reply(() => Submit(submit.Start)));
        Receive<RecoverRuns>(_ => Reply(Recover));
        Receive<JobStarted>(started => _running[started.RunId] = started.Supervisor);
        Receive<JobOutcome>(outcome => Ended(Sender, outcome.RunId));
        Receive<Terminated>(t =>
        {
            if (_starters.Remove(t.ActorRef, out var starter))
                starter.Tell(new JobFailed(_queuedSupervisors.GetValueOrDefault(t.ActorRef), "the job supervisor stopped before the run ended (it crashed; see the log)",
                    new InvalidOperationException("the job supervisor stopped unexpectedly")));
            Ended(t.ActorRef, null);
        });
        Receive<CancelRun>(Cancel);
        Receive<ShutdownRuns>(_ => Shutdown());
        Receive<GetRunStatus>(query =>
        {
            if (_running.TryGetValue(query.RunId, out var supervisor))
                AskSupervisor(supervisor, query, Sender);
            else
                Sender.Tell(StatusWithoutSupervisor(query.RunId));
        });
        Receive<StatusAnswered>(answered =>
        {
            if (_statusQueries.Remove(answered.Query))
                answered.Query.Asker.Tell(answered.Report ?? StatusWithoutSupervisor(answered.Query.RunId));
        });
        Receive<GetQueue>(_ => Sender.Tell(new QueueState(
            _queue.Waiting.Select(w => w.RunId).ToList(),
            _running.Keys.Select(id => (id, _queue.DeviceOf(id) ?? "in-process")).ToDictionary(x => x.id, x => x.Item2))));
    }

    /// <summary>
    /// Asks a running run's supervisor for its status on behalf of <paramref name="asker"/>. Not forwarded: a
    /// supervisor stops itself right after telling its outcome, so a query that reaches it a moment later was lost
    /// and its asker waited out its whole timeout (the API answered a poll of a run just ending with a 500 after
    /// 30 s). A query still open when the supervisor's end arrives here is answered from the run store, where the
    /// run's end is already recorded.
    /// </summary>
    private void AskSupervisor(IActorRef supervisor, GetRunStatus query, IActorRef asker)
    {
        var pending = new PendingStatusQuery(supervisor, query.RunId, asker);
        _statusQueries.Add(pending);
        supervisor.Ask<RunStatusReport>(query, s_statusPatience)
            .PipeTo(Self, success: report => new StatusAnswered(pending, report), failure: _ => new StatusAnswered(pending, null));
    }

    /// <summary>A run no supervisor is running: its place in the queue, else its record in the store, else unknown.</summary>
    private RunStatusReport StatusWithoutSupervisor(string runId)
    {
        if (_queue.PositionOf(runId) is { } position)
            return new RunStatusReport(runId, RunStatus.Queued, null, 0, null) { QueuePosition = position };
        if (!_job.Store.Exists(runId))
            return new RunStatusReport(runId, null, null, 0, $"no run {runId}");
        var record = _job.Store.Get(runId);
        return new RunStatusReport(record.Id, record.Status, null, record.Retries.Count, record.Error);
    }

    /// <summary>A crashed job supervisor is stopped, never restarted (that would start its training again).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>Answers the sender with <paramref name="work"/>'s result, or a failure naming what was wrong.</summary>
    private void Reply(Func<object> work)
    {
        try
        {
            Sender.Tell(work());
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException or KeyNotFoundException
                                      or FileNotFoundException or IOException or TrainingOptionsException)
        {
            Sender.Tell(new Status.Failure(e));
        }
    }

    private RunSubmitted Submit(StartRun start)
    {
        if (_shuttingDown)
            throw new InvalidOperationException("the agent is shutting down; submit the run again once it is back");
        string runId;
        TrainRequest request;
        if (start.Request is { } r)
        {
            r.Options.Validate();
            runId = r.RunId;
            if (_job.Store.Exists(runId) || _queue.Contains(runId))
                throw new InvalidOperationException($"run {runId} already exists; resume it instead");
            request = r;
            Directory.CreateDirectory(_job.Store.Folder);
            var record = _job.Store.Create(runId, request.ToJson(), Path.GetFullPath(request.OutputDirectory), RunStatus.Queued);
            _history?.Tell(new HistoryProtocol.RecordRun(HistoryRun.FromRecord(record, _job.Store)));
        }
        else
        {
            runId = start.ResumeFrom!;
            if (!_job.Store.Exists(runId))
                throw new KeyNotFoundException($"no run {runId} in {_job.Store.Folder} to resume");
            if (_queue.Contains(runId) || _running.ContainsKey(runId))
                throw new InvalidOperationException($"run {runId} is already queued or running");
            var record = _job.Store.Get(runId);
            request = TrainRequest.FromJson(record.Config, Path.Combine(_job.Store.RunFolder(runId), RunStore.RecordFileName));
            if (CheckpointFolder.Latest(request.OutputDirectory) is null)
                throw new InvalidOperationException($"run {runId} has no complete checkpoint in {request.OutputDirectory} to resume from");
            SetQueued(record);
        }
        var position = _queue.Enqueue(new QueuedRun(runId, Estimate(request)));
        _waiting[runId] = start;
        _events.Start(runId).Append("queued", new JsonObject { ["event"] = "queued", ["run_id"] = runId, ["position"] = position });
        StartWaiting();
        return new RunSubmitted(runId, _queue.PositionOf(runId));
    }

    /// <summary>Marks a run queued again in run.json and the history (it is resumed or restarted by this agent).</summary>
    private void SetQueued(RunRecord record)
    {
        var queued = _job.Store.Save(record with { Status = RunStatus.Queued, Error = null });
        _history?.Tell(new HistoryProtocol.RecordRun(HistoryRun.FromRecord(queued, _job.Store)));
    }

    /// <summary>
    /// The run's peak memory by its method's estimator at its micro-batch and cutoff, for the queue's sharing rule;
    /// null when it cannot be told before the run plans (the built-in model, an unreadable config, an unknown method).
    /// </summary>
    private long? Estimate(TrainRequest request)
    {
        if (request.ModelDirectory is not { } dir)
            return null;
        try
        {
            var config = ModelConfigReader.Load(Path.Combine(dir, Modeling.Checkpoints.Checkpoint.ConfigFileName));
            var method = _job.Plugins.Method(request.Method);
            var options = request.Options;
            var shape = new TrainingShape
            {
                MicroBatchSize = options.PerDeviceTrainBatchSize,
                SequenceLength = options.CutoffLen,
                GradientCheckpointing = options.GradientCheckpointing,
                WeightDtype = Torch.torch.ScalarType.Float32,
                ComputeDtype = options.Bf16 ? Torch.torch.ScalarType.BFloat16 : Torch.torch.ScalarType.Float32,
                FusedCpuKernels = true,   // the queue's one slot is the CPU
            };
            return method.EstimateMemory(config, shape, method.ParseSettings(request.MethodSettings)).TotalBytes;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Starts every waiting run a device can take now.</summary>
    private void StartWaiting()
    {
        if (_shuttingDown)
            return;
        foreach (var (run, device) in _queue.TakeStartable())
        {
            var start = _waiting[run.RunId];
            _waiting.Remove(run.RunId);
            var log = _events.For(run.RunId);
            log.Append("started", new JsonObject { ["event"] = "started", ["run_id"] = run.RunId, ["device"] = device });
            var observer = Context.ActorOf(Props.Create(() => new RunObserver(log, _history)), $"observer-{_started + 1}");
            var supervisor = Context.ActorOf(Props.Create(() => new JobSupervisor(_job, start, observer, _policy, _history)), $"job-{++_started}");
            Context.Watch(supervisor);
            _starters[supervisor] = observer;
            _queuedSupervisors[supervisor] = run.RunId;
            _running[run.RunId] = supervisor;
        }
    }

    /// <summary>A supervisor ended (its outcome or its termination, whichever comes first): free its device, start what waits.</summary>
    private void Ended(IActorRef supervisor, string? runId)
    {
        _starters.Remove(supervisor);
        if (_queuedSupervisors.Remove(supervisor, out var queued))
            runId ??= queued;
        foreach (var id in _running.Where(r => r.Value.Equals(supervisor)).Select(r => r.Key).ToList())
        {
            _running.Remove(id);
            _queue.Finished(id);
        }
        if (runId is not null)
            _queue.Finished(runId);
        foreach (var pending in _statusQueries.Where(q => q.Supervisor.Equals(supervisor)).ToList())
        {
            _statusQueries.Remove(pending);
            pending.Asker.Tell(StatusWithoutSupervisor(pending.RunId));
        }
        if (_shuttingDown && _running.Count == 0)
        {
            foreach (var waiter in _shutdownWaiters)
                waiter.Tell(new RunsStopped(_started));
            _shutdownWaiters.Clear();
        }
        StartWaiting();
    }

    private void Cancel(CancelRun cancel)
    {
        if (_running.TryGetValue(cancel.RunId, out var supervisor))
        {
            supervisor.Tell(CancelJob.Instance);
            Sender.Tell(new CancelRequested(cancel.RunId, RunStatus.Running));
        }
        else if (_queue.RemoveWaiting(cancel.RunId))
        {
            _waiting.Remove(cancel.RunId);
            if (_job.Store.Exists(cancel.RunId))
                _job.Store.Save(_job.Store.Get(cancel.RunId) with { Status = RunStatus.Cancelled, Error = "cancelled before it started" });
            _history?.Tell(new HistoryProtocol.UpdateStatus(cancel.RunId, RunStatus.Cancelled, "cancelled before it started"));
            _events.For(cancel.RunId).Append("outcome", new JsonObject
            {
                ["event"] = "outcome", ["run_id"] = cancel.RunId, ["status"] = "cancelled", ["error"] = "cancelled before it started",
            }, last: true);
            Sender.Tell(new CancelRequested(cancel.RunId, RunStatus.Queued));
        }
        else
        {
            Sender.Tell(new Status.Failure(new KeyNotFoundException($"run {cancel.RunId} is neither queued nor running")));
        }
    }

    /// <summary>Stops every running run with a checkpoint (recorded interrupted); waiting runs stay queued in run.json. Answered once all have ended.</summary>
    private void Shutdown()
    {
        _shuttingDown = true;
        if (_running.Count == 0)
        {
            Sender.Tell(new RunsStopped(0));
            return;
        }
        _shutdownWaiters.Add(Sender);
        foreach (var supervisor in _running.Values.Distinct())
            supervisor.Tell(CancelJob.ForShutdown);
    }

    /// <summary>
    /// Submits again, oldest first, the runs of the store a previous agent left unfinished: queued ones as they were;
    /// interrupted ones, and running ones whose lock no live process holds (their agent died), from their last
    /// checkpoint, or from the start (metrics cleared) when they had none yet. A run whose record cannot be read is
    /// marked failed with the reason.
    /// </summary>
    private RunsRecovered Recover()
    {
        var recovered = new List<RecoveredRun>();
        if (!Directory.Exists(_job.Store.Folder))
            return new RunsRecovered(recovered);
        var records = new List<RunRecord>();
        foreach (var folder in Directory.EnumerateDirectories(_job.Store.Folder))
        {
            var id = Path.GetFileName(folder);
            if (!File.Exists(Path.Combine(folder, RunStore.RecordFileName)))
                continue;
            try
            {
                records.Add(_job.Store.Get(id));
            }
            catch (InvalidDataException e)
            {
                recovered.Add(new RecoveredRun(id, "skipped", e.Message));
            }
        }
        foreach (var record in records.Where(r => r.Status is RunStatus.Queued or RunStatus.Running or RunStatus.Interrupted).OrderBy(r => r.CreatedAt))
        {
            if (_queue.Contains(record.Id) || _running.ContainsKey(record.Id))
                continue;
            if (record.Status == RunStatus.Running && RunLock.IsHeld(_job.Store, record.Id))
            {
                recovered.Add(new RecoveredRun(record.Id, "left", "another live process is running it"));
                continue;
            }
            try
            {
                var request = TrainRequest.FromJson(record.Config, Path.Combine(_job.Store.RunFolder(record.Id), RunStore.RecordFileName));
                var checkpoint = CheckpointFolder.Latest(request.OutputDirectory);
                StartRun start;
                string action;
                if (checkpoint is not null)
                {
                    (start, action) = (StartRun.Resume(record.Id), $"resumes from {checkpoint}");
                }
                else
                {
                    _job.Store.TruncateMetricsAfter(record.Id, 0);
                    (start, action) = (StartRun.New(request), record.Status == RunStatus.Queued ? "queued again" : "restarts from the start (no checkpoint yet)");
                }
                SetQueued(record);
                var position = _queue.Enqueue(new QueuedRun(record.Id, Estimate(request)));
                _waiting[record.Id] = start;
                _events.Start(record.Id).Append("queued", new JsonObject { ["event"] = "queued", ["run_id"] = record.Id, ["position"] = position, ["recovered"] = action });
                recovered.Add(new RecoveredRun(record.Id, "queued", action));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or TrainingOptionsException)
            {
                var reason = $"could not be resumed after the agent stopped: {e.Message}";
                _job.Store.Save(record with { Status = RunStatus.Failed, Error = reason });
                _history?.Tell(new HistoryProtocol.RecordRun(HistoryRun.FromRecord(_job.Store.Get(record.Id), _job.Store)));
                recovered.Add(new RecoveredRun(record.Id, "failed", reason));
            }
        }
        StartWaiting();
        return new RunsRecovered(recovered);
    }

    /// <summary>A status query asked of a supervisor and not answered yet (compared by reference).</summary>
    private sealed class PendingStatusQuery(IActorRef supervisor, string runId, IActorRef asker)
    {
        public IActorRef Supervisor => supervisor;

        public string RunId => runId;

        public IActorRef Asker => asker;
    }

    /// <summary>A supervisor's answer to a pending query; null when it did not answer in time.</summary>
    private sealed record StatusAnswered(PendingStatusQuery Query, RunStatusReport? Report);
}

/// <summary>
/// A queued run's client: writes every event of the run, then its outcome, into the run's event log (each event's
/// JSON as metrics.jsonl has it), and stops.
/// </summary>
internal sealed class RunObserver : ReceiveActor
{
    public RunObserver(RunEventLog log, IActorRef? history)
    {
        Receive<JobStarted>(_ => { });
        Receive<TrainingProgress>(p =>
        {
            var json = TrainingEventJson.Write(p.Event);
            log.Append((string?)json["event"] ?? "event", json);
        });
        Receive<JobOutcome>(o =>
        {
            // The run told its history everything before its outcome; the outcome is streamed once that is committed,
            // so a client reading the run when the stream ends finds it ended there too.
            if (history is null)
                Ended(o);
            else
                history.Ask<HistoryProtocol.Written>(HistoryProtocol.Flush.Instance, TimeSpan.FromMinutes(1))
                    .PipeTo(Self, success: _ => new Flushed(o), failure: _ => new Flushed(o));
        });
        Receive<Flushed>(f => Ended(f.Outcome));

        void Ended(JobOutcome o)
        {
            log.Append("outcome", OutcomeJson(log.RunId, o), last: true);
            Context.Stop(Self);
        }
    }

    private sealed record Flushed(JobOutcome Outcome);

    public static JsonObject OutcomeJson(string runId, JobOutcome outcome) => outcome switch
    {
        JobCompleted c => new JsonObject { ["event"] = "outcome", ["run_id"] = runId, ["status"] = "completed", ["summary"] = c.Summary.ToJson() },
        JobCancelled c => new JsonObject
        {
            ["event"] = "outcome", ["run_id"] = runId, ["status"] = c.Interrupted ? "interrupted" : "cancelled", ["checkpoint"] = c.Checkpoint,
        },
        JobFailed f => new JsonObject { ["event"] = "outcome", ["run_id"] = runId, ["status"] = "failed", ["error"] = f.Reason },
        _ => new JsonObject { ["event"] = "outcome", ["run_id"] = runId, ["status"] = "unknown" },
    };
}
