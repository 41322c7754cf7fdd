using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>
/// One per run: owns the run's <see cref="TrainerStage"/> (a child) and applies the failure policies.
/// <list type="bullet">
/// <item>Out of memory (<see cref="TrainingOutOfMemoryException"/> with a retry): restart from the last
/// checkpoint (from the start if none) with half the micro-batch and twice the accumulation, up to
/// <see cref="JobPolicy.MaxOutOfMemoryRetries"/> times; each retry is a <see cref="TrainingRetried"/>
/// event, a "retry" line in metrics.jsonl and an entry in run.json's retries.</item>
/// <item>NaN/inf (<see cref="TrainingDivergedException"/>): no restart; failed, with the step in the reason.</item>
/// <item>Cancel (<see cref="CancelJob"/>): the trainer saves a checkpoint and stops; cancelled.</item>
/// <item>Anything else, including the stage itself crashing or stopping before it answers: failed, with the reason.</item>
/// </list>
/// Progress goes to the starter as <see cref="TrainingProgress"/>; the end as one <see cref="JobOutcome"/>
/// (also told to the parent), after which the supervisor stops.
/// </summary>
public sealed class JobSupervisor : ReceiveActor
{
    private readonly TrainingJob _job;
    private readonly StartRun _start;
    private readonly IActorRef _client;
    private readonly JobPolicy _policy;
    private IActorRef _trainer = ActorRefs.Nobody;
    private TrainRequest? _request;
    private string? _runId;
    private int? _lastStep;
    private int _retries;
    private bool _cancelRequested;
    private bool _done;

    public JobSupervisor(TrainingJob job, StartRun start, IActorRef client, JobPolicy? policy = null)
    {
        _job = job;
        _start = start;
        _client = client;
        _policy = policy ?? JobPolicy.Default;
        Receive<BeginRun>(_ => Begin());
        Receive<TrainingProgress>(OnProgress);
        Receive<TrainingFinished>(done => Finish(new JobCompleted(_runId!, done.Summary)));
        Receive<Status.Failure>(failure => OnFailure(failure.Cause));
        Receive<CancelJob>(_ =>
        {
            _cancelRequested = true;
            _trainer.Tell(CancelTraining.Instance);
        });
        Receive<GetRunStatus>(_ => Sender.Tell(new RunStatusReport(_runId ?? "", RunStatus.Running, _lastStep, _retries, null)));
        Receive<Terminated>(t => t.ActorRef.Equals(_trainer) && !_done,
            _ => Fail(new InvalidOperationException("the trainer stage stopped before it answered (it crashed; see the log)")));
    }

    /// <summary>A crash of the stage actor itself (not of its training, which it answers as a failure) stops it: never restarted half-way into a run.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _trainer = Context.ActorOf(Props.Create(() => new TrainerStage(_job)), "trainer");
        Context.Watch(_trainer);
        Self.Tell(BeginRun.Instance);
    }

    private void Begin()
    {
        string? checkpoint = null;
        try
        {
            if (_start.Request is { } request)
                _request = request;
            else
                (_request, checkpoint) = _job.ResolveResume(_start.ResumeFrom!);
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }
        _runId = _request.RunId;
        var started = new JobStarted(_runId, Self);
        _client.Tell(started);
        Context.Parent.Tell(started);
        _trainer.Tell(new StartTraining(_request, checkpoint));
    }

    private void OnProgress(TrainingProgress progress)
    {
        if (progress.Event is StepCompleted s)
            _lastStep = s.Step;
        _client.Tell(progress);
    }

    private void OnFailure(Exception e)
    {
        if (_done)
            return;
        if (e is OperationCanceledException || _cancelRequested)
        {
            var checkpoint = CheckpointFolder.Latest(_request!.OutputDirectory);
            Record(r => r with { Status = RunStatus.Cancelled, Error = "cancelled" });
            Finish(new JobCancelled(_runId!, checkpoint));
            return;
        }
        if (e is TrainingOutOfMemoryException { Retry: { } retry } oom && _retries < _policy.MaxOutOfMemoryRetries)
        {
            Retry(oom, retry);
            return;
        }
        Fail(e, e is TrainingOutOfMemoryException { Retry: not null } ? $" (gave up after {_retries} retries)" : "");
    }

    private void Retry(TrainingOutOfMemoryException oom, TrainingOptions retry)
    {
        _retries++;
        var checkpoint = CheckpointFolder.Latest(_request!.OutputDirectory);
        var fromStep = checkpoint is null ? 0 : TrainerState.Read(checkpoint).GlobalStep;
        _request = _request with
        {
            Options = _request.Options with { PerDeviceTrainBatchSize = retry.PerDeviceTrainBatchSize, GradientAccumulationSteps = retry.GradientAccumulationSteps },
        };
        var retried = new TrainingRetried(_retries, _policy.MaxOutOfMemoryRetries, oom.Step, fromStep, checkpoint,
            retry.PerDeviceTrainBatchSize, retry.GradientAccumulationSteps, oom.Message);
        var store = _job.Store;
        if (store.Exists(_runId!))
        {
            if (checkpoint is null)
                store.TruncateMetricsAfter(_runId!, 0); // the retry repeats every step
            var json = TrainingEventJson.Write(retried);
            store.AppendMetric(_runId!, json);
            Record(r => r with { Retries = r.Retries.Append(json).ToList(), Config = _request.ToJson() });
        }
        _client.Tell(new TrainingProgress(_runId!, retried));
        _trainer.Tell(new StartTraining(_request, checkpoint));
    }

    private void Fail(Exception e, string note = "")
    {
        var reason = $"{e.GetType().Name}: {e.Message}{note}";
        Record(r => r with { Status = RunStatus.Failed, Error = reason });
        Finish(new JobFailed(_runId, reason, e));
    }

    /// <summary>Updates run.json when the run got that far (a resume of an unknown run has none).</summary>
    private void Record(Func<RunRecord, RunRecord> change)
    {
        if (_runId is { } id && _job.Store.Exists(id))
            _job.Store.Save(change(_job.Store.Get(id)));
    }

    private void Finish(JobOutcome outcome)
    {
        _done = true;
        _client.Tell(outcome);
        Context.Parent.Tell(outcome);
        Context.Stop(Self);
    }

    private sealed record BeginRun
    {
        public static BeginRun Instance { get; } = new();
    }
}
