using FineTuneAgent.Core;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Hardware;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>
/// One per run: runs it as a pipeline of child stages and applies the failure policies. First the run is planned
/// (<see cref="TrainingJob.Plan"/>: record, model, plugins, tokenizer) on a long-running task; then
/// <see cref="DatasetStage"/> prepares the data, <see cref="QuantizerStage"/> quantizes the base into its cache
/// when the method trains over a quantized base (QLoRA), and <see cref="TrainerStage"/> trains on the prepared
/// rows and the cached base. Every stage does its work on its own task, so this mailbox stays free for cancels
/// and status queries. Each stage's start is a <see cref="StageStarted"/> event, its progress
/// <see cref="StageProgressed"/>, its result <see cref="DatasetReady"/> / <see cref="QuantizedBaseReady"/>.
/// A new run and a resume (<see cref="StartRun.Resume"/>) take the same path.
/// <list type="bullet">
/// <item>Out of memory in training (<see cref="TrainingOutOfMemoryException"/> with a retry): the trainer alone
/// restarts from the last checkpoint (from the start if none) with half the micro-batch and twice the
/// accumulation, on the data already prepared and the base already quantized, up to
/// <see cref="JobPolicy.MaxOutOfMemoryRetries"/> times; each retry is a <see cref="TrainingRetried"/> event, a
/// "retry" line in metrics.jsonl and an entry in run.json's retries.</item>
/// <item>NaN/inf (<see cref="TrainingDivergedException"/>): no restart; failed, with the step in the reason.</item>
/// <item>Cancel (<see cref="CancelJob"/>): while training, the trainer saves a checkpoint and stops; while
/// preparing, the stage is stopped at once (the quantizer between tensors). Cancelled either way.</item>
/// <item>Anything else (a bad dataset row, a missing checkpoint, a stage actor crashing or stopping before it
/// answers): failed, with the reason (e.g. the file and line).</item>
/// </list>
/// Progress goes to the starter as <see cref="TrainingProgress"/>; the end as one <see cref="JobOutcome"/>
/// (also told to the parent), after which the supervisor stops.
/// With a history writer, the run is also recorded there as it goes (<see cref="RunHistory"/>): the row at
/// planning with the model's hash and a hardware snapshot, the dataset's hash, metrics, checkpoints, the
/// evaluation, exports with their hashes, and the end; all told before the outcome, so a client that asks the
/// writer for <see cref="HistoryProtocol.Flush"/> after the outcome finds the history complete.
/// </summary>
public sealed class JobSupervisor : ReceiveActor
{
    private const string Planning = "planning";

    private readonly TrainingJob _job;
    private readonly StartRun _start;
    private readonly IActorRef _client;
    private readonly JobPolicy _policy;
    private readonly Dictionary<string, IActorRef> _stages = new();
    private string _stage = Planning;
    private IActorRef _current = ActorRefs.Nobody;
    private RunPlan? _plan;
    private PreparedDataset? _data;
    private TrainingSummary? _summary;
    private string? _checkpoint;
    private string? _runId;
    private RunRecorder? _recorder;
    private readonly IActorRef? _historyWriter;
    private RunHistory? _history;
    private int? _lastStep;
    private int _retries;
    private bool _cancelRequested;
    private bool _interrupt;
    private FileLock? _lock;
    private bool _done;

    public JobSupervisor(TrainingJob job, StartRun start, IActorRef client, JobPolicy? policy = null, IActorRef? history = null)
    {
        _job = job;
        _historyWriter = history;
        _start = start;
        _client = client;
        _policy = policy ?? JobPolicy.Default;
        Receive<BeginRun>(_ => Begin());
        Receive<RunPlanned>(OnPlanned);
        Receive<StageProgress>(p => Report(new StageProgressed(p.Stage, p.Message, p.Done, p.Total)));
        Receive<DatasetPrepared>(OnDatasetPrepared);
        Receive<BaseQuantized>(OnBaseQuantized);
        Receive<TrainingProgress>(OnProgress);
        Receive<TrainingFinished>(OnTrained);
        Receive<EvaluationPlanned>(OnEvaluationPlanned);
        Receive<EvaluationFinished>(OnEvaluated);
        Receive<ExportsFinished>(OnExported);
        Receive<Status.Failure>(failure => OnFailure(failure.Cause));
        Receive<CancelJob>(OnCancel);
        Receive<GetRunStatus>(_ => Sender.Tell(new RunStatusReport(_runId ?? "", RunStatus.Running, _lastStep, _retries, null)));
        Receive<Terminated>(t => t.ActorRef.Equals(_current) && !_done,
            _ => Fail(new InvalidOperationException($"the {_stage} stage stopped before it answered (it crashed; see the log)")));
        Receive<Terminated>(_ => { }); // a stage that already answered
    }

    /// <summary>A crash of a stage actor itself (not of its work, which it answers as a failure) stops it: never restarted half-way into a run.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart() => Self.Tell(BeginRun.Instance);

    /// <summary>Releases the run's plugin leases and its lock.</summary>
    protected override void PostStop()
    {
        _plan?.Dispose();
        _lock?.Dispose();
        base.PostStop();
    }

    private void Begin()
    {
        TrainRequest request;
        try
        {
            if (_start.Request is { } r)
                request = r;
            else
                (request, _checkpoint) = _job.ResolveResume(_start.ResumeFrom!);
        }
        catch (Exception e)
        {
            // A resume of a recorded run that cannot go on is that run's failure (an agent would otherwise retry it at every start).
            if (_start.ResumeFrom is { } from && _job.Store.Exists(from) && RunLock.TryTake(_job.Store, from, out _) is { } free)
            {
                free.Dispose();
                _runId = from;
            }
            Fail(e);
            return;
        }
        var runId = _runId = request.RunId;
        // One process per run: a run another process is training is refused without touching its records.
        _lock = RunLock.TryTake(_job.Store, runId, out var holder);
        if (_lock is null)
        {
            Finish(new JobFailed(runId, $"run {runId} is already running in another process ({holder})",
                new InvalidOperationException($"run {runId} is locked by {holder}")));
            return;
        }
        var client = _client;
        _recorder = new RunRecorder(_job.Store, runId, new SynchronousProgress<TrainingEvent>(e => client.Tell(new TrainingProgress(runId, e))));
        if (_historyWriter is not null)
            _history = new RunHistory(_historyWriter, runId);
        var started = new JobStarted(runId, Self);
        _client.Tell(started);
        Context.Parent.Tell(started);

        // Planning writes the built-in model on its first use and loads the tokenizer: off the mailbox too.
        var (job, self, checkpoint, recordHistory) = (_job, Self, _checkpoint, _history is not null);
        var say = new SynchronousProgress<TrainingEvent>(e => self.Tell(new TrainingProgress(runId, e)));
        Task.Factory.StartNew(() =>
            {
                var plan = job.Plan(request, checkpoint, say);
                return new RunPlanned(plan, recordHistory ? HistoryRowFor(job, plan, say) : null,
                    checkpoint is null ? 0 : TrainerState.Read(checkpoint).GlobalStep);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self);
    }

    /// <summary>
    /// The run's history row as planned: run.json's fields, the method and model folder resolved, the model's
    /// content hash (read whole once, then remembered with the quantized-base cache) and this machine's hardware.
    /// A hash that cannot be computed is said and left out; it never fails the run.
    /// </summary>
    private static HistoryRun HistoryRowFor(TrainingJob job, RunPlan plan, IProgress<TrainingEvent> say)
    {
        string? modelHash = null;
        try
        {
            modelHash = QuantizedBase.Digest(plan.ModelDirectory, plan.QuantizedBaseCacheDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            say.Report(new JobMessage($"history: the model's hash was not recorded ({e.Message})"));
        }
        return HistoryRun.FromRecord(job.Store.Get(plan.Request.RunId), job.Store) with
        {
            Method = plan.Method.Name,
            ModelPath = plan.ModelDirectory,
            ModelHash = modelHash,
            Hardware = new HardwareProbe().Probe().ToJson(),
        };
    }

    private void OnPlanned(RunPlanned planned)
    {
        _plan = planned.Plan;
        if (planned.HistoryRow is { } row)
        {
            _history!.Recorded(row);
            _history.RestartsAfter(planned.FromStep); // a resume repeats the steps after its checkpoint
        }
        if (_cancelRequested)
        {
            Cancelled();
            return;
        }
        StartStage("dataset", Props.Create<DatasetStage>(),
            new PrepareDataset(_plan.Dataset, _plan.ModelDirectory, _plan.Format) { Tokenizer = _plan.Tokenizer });
    }

    private void OnDatasetPrepared(DatasetPrepared prepared)
    {
        _data = prepared.Dataset;
        if (_data.ContentHash is { } hash)
            _history?.DatasetHashed(hash);
        Report(new DatasetReady(_data.Summary, _data.Cache));
        if (_plan!.Quantization is { } scheme)
            StartStage("quantizer", Props.Create<QuantizerStage>(),
                new QuantizeBase(_plan.ModelDirectory, scheme, _plan.QuantizedBaseCacheDirectory, TrainingJob.ComputeDtype));
        else
            StartTrainer();
    }

    private void OnBaseQuantized(BaseQuantized quantized)
    {
        var cache = quantized.Cache;
        Report(new QuantizedBaseReady(cache.Scheme.Key, cache.Tensors, cache.FromCache, cache.CacheFile, cache.CacheProblem));
        StartTrainer();
    }

    private void StartTrainer()
    {
        var job = _job;
        StartStage("trainer", Props.Create(() => new TrainerStage(job)), new StartTraining(_plan!, _data!, _checkpoint));
    }

    /// <summary>Training is done: evaluate it (when asked and rows were held out), then export (when asked), then complete.</summary>
    private void OnTrained(TrainingFinished done)
    {
        _summary = done.Summary;
        if (_cancelRequested)
        {
            Cancelled();
            return;
        }
        // Writing the held-out rows re-reads and re-renders the data: off the mailbox too.
        var (job, plan, summary) = (_job, _plan!, _summary);
        _stage = "evaluator";
        Task.Factory.StartNew(() => new EvaluationPlanned(job.EvaluationFor(plan, summary)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self);
    }

    private void OnEvaluationPlanned(EvaluationPlanned planned)
    {
        if (_cancelRequested)
        {
            Cancelled();
            return;
        }
        if (planned.Request is { } request)
            StartStage("evaluator", EvaluatorStage.Props(_job.Plugins, _job.Store), new StartEvaluation(request, _runId));
        else
            ExportOrComplete();
    }

    private void OnEvaluated(EvaluationFinished done)
    {
        var r = done.Result;
        _history?.Evaluated(System.Text.Json.Nodes.JsonNode.Parse(r.ToJsonString())!.AsObject(), done.SavedTo);
        Report(new EvaluationReady(done.SavedTo ?? "", r.Base.Validation.Loss, r.Tuned?.Validation.Loss, r.ForgettingLossIncrease,
            r.Base.Generation.Scores.RougeL, r.Tuned?.Generation.Scores.RougeL, r.Base.Generation.Scores.Samples));
        ExportOrComplete();
    }

    private void ExportOrComplete()
    {
        if (_plan!.Request.Export is { } export)
            StartStage("exporter", Props.Create(() => new ExporterStage(_job.Plugins)), new StartExport(_job.Store, _runId!, export) { DescribeForHistory = _history is not null });
        else
            Finish(new JobCompleted(_runId!, _summary!));
    }

    private void OnExported(ExportsFinished done)
    {
        foreach (var result in done.Results)
            Report(new ExportReady(Core.Export.ExportChoices.Name(result.Format), result.OutputPath));
        foreach (var artefact in done.Artefacts)
            _history?.Artefact(artefact);
        Finish(new JobCompleted(_runId!, _summary!));
    }

    /// <summary>Starts (the first time: creates and watches) the stage's child actor and hands it its work.</summary>
    private void StartStage(string stage, Props props, object work)
    {
        if (!_stages.TryGetValue(stage, out var actor))
        {
            actor = _stages[stage] = Context.ActorOf(props, stage);
            Context.Watch(actor);
        }
        _stage = stage;
        _current = actor;
        Report(new StageStarted(stage));
        actor.Tell(work);
    }

    private void OnProgress(TrainingProgress progress)
    {
        if (progress.Event is StepCompleted s)
            _lastStep = s.Step;
        _history?.Report(progress.Event);
        _client.Tell(progress);
    }

    /// <summary>Stage events: recorded (the run's facts) and passed to the client.</summary>
    private void Report(TrainingEvent e)
    {
        _recorder!.Report(e);
        _history?.Report(e);
    }

    private void OnCancel(CancelJob cancel)
    {
        if (_done)
            return;
        _cancelRequested = true;
        _interrupt |= cancel.Interrupt;
        switch (_stage)
        {
            case Planning:
                break; // seconds at most; cancelled when the plan arrives
            case "trainer":
                _current.Tell(CancelTraining.Instance);
                break;
            default:
                Cancelled(); // stopping the supervisor stops the dataset or quantizer stage; its work is thrown away
                break;
        }
    }

    private void OnFailure(Exception e)
    {
        if (_done)
            return;
        if (e is OperationCanceledException || _cancelRequested)
        {
            Cancelled();
            return;
        }
        if (_stage == "trainer" && e is TrainingOutOfMemoryException { Retry: { } retry } oom && _retries < _policy.MaxOutOfMemoryRetries)
        {
            Retry(oom, retry);
            return;
        }
        Fail(e, e is TrainingOutOfMemoryException { Retry: not null } ? $" (gave up after {_retries} retries)"
            : _summary is { } trained ? $" (in the {_stage} stage; training itself completed: its output is in {trained.OutputDirectory})" : "");
    }

    private void Retry(TrainingOutOfMemoryException oom, TrainingOptions retry)
    {
        _retries++;
        var request = _plan!.Request;
        _checkpoint = CheckpointFolder.Latest(request.OutputDirectory);
        var fromStep = _checkpoint is null ? 0 : TrainerState.Read(_checkpoint).GlobalStep;
        request = request with
        {
            Options = request.Options with { PerDeviceTrainBatchSize = retry.PerDeviceTrainBatchSize, GradientAccumulationSteps = retry.GradientAccumulationSteps },
        };
        _plan = _plan with { Request = request };
        var retried = new TrainingRetried(_retries, _policy.MaxOutOfMemoryRetries, oom.Step, fromStep, _checkpoint,
            retry.PerDeviceTrainBatchSize, retry.GradientAccumulationSteps, oom.Message);
        if (_checkpoint is null)
            _job.Store.TruncateMetricsAfter(_runId!, 0); // the retry repeats every step
        _history?.RestartsAfter(fromStep);
        Record(r => r with { Retries = r.Retries.Append(TrainingEventJson.Write(retried)).ToList(), Config = request.ToJson() });
        Report(retried);
        StartTrainer();
    }

    private void Cancelled()
    {
        var output = (_plan?.Request ?? _start.Request)?.OutputDirectory;
        var checkpoint = output is null ? null : CheckpointFolder.Latest(output);
        var (status, reason) = _interrupt
            ? (RunStatus.Interrupted, "interrupted: the agent stopped; it resumes this run when it starts again")
            : (RunStatus.Cancelled, "cancelled");
        Record(r => r with { Status = status, Error = reason });
        EnsureHistoryRow();
        _history?.Cancelled(status, reason);
        Finish(new JobCancelled(_runId!, checkpoint, _interrupt));
    }

    private void Fail(Exception e, string note = "")
    {
        var reason = $"{e.GetType().Name}: {e.Message}{note}";
        Record(r => r with { Status = RunStatus.Failed, Error = reason });
        EnsureHistoryRow();
        _history?.Failed(reason);
        Finish(new JobFailed(_runId, reason, e));
    }

    /// <summary>Updates run.json when the run got that far (a resume of an unknown run has none).</summary>
    private void Record(Func<RunRecord, RunRecord> change)
    {
        if (_runId is { } id && _job.Store.Exists(id))
            _job.Store.Save(change(_job.Store.Get(id)));
    }

    /// <summary>A run that ends before its plan arrived still gets its history row, from run.json, when it got that far.</summary>
    private void EnsureHistoryRow()
    {
        if (_history is { IsRecorded: false } history && _job.Store.Exists(history.RunId))
            history.Recorded(HistoryRun.FromRecord(_job.Store.Get(history.RunId), _job.Store));
    }

    private void Finish(JobOutcome outcome)
    {
        if (outcome is JobCompleted completed)
            _history?.Completed(completed.Summary);
        _done = true;
        _client.Tell(outcome);
        Context.Parent.Tell(outcome);
        Context.Stop(Self);
    }

    private sealed record BeginRun
    {
        public static BeginRun Instance { get; } = new();
    }

    /// <summary>The evaluation planning task's result: what to evaluate, or null for nothing.</summary>
    private sealed record EvaluationPlanned(Core.Evaluation.EvaluationRequest? Request);

    /// <summary>The planning task's result.</summary>
    private sealed record RunPlanned(RunPlan Plan, HistoryRun? HistoryRow, int FromStep);
}
