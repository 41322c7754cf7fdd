using FineTuneAgent.Actors;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>
/// The agent's root: starts a <see cref="JobSupervisor"/> per <see cref="StartRun"/> (the sender gets the
/// run's progress and outcome), cancels runs (<see cref="CancelRun"/>) and answers
/// <see cref="GetRunStatus"/>: a running run from its supervisor, a finished one from the run store.
/// A supervisor that stops without an outcome (it crashed) is reported to its starter as failed.
/// With a history writer (<see cref="Core.History.HistoryWriter"/>, owned by whoever owns this root), every run
/// is also recorded in the SQLite history as it goes.
/// </summary>
public sealed class AgentRoot : ReceiveActor
{
    private readonly TrainingJob _job;
    private readonly JobPolicy _policy;
    private readonly IActorRef? _history;
    private readonly Dictionary<string, IActorRef> _running = new();
    private readonly Dictionary<IActorRef, IActorRef> _starters = new();
    private int _started;

    public AgentRoot(TrainingJob job, JobPolicy? policy = null, IActorRef? history = null)
    {
        _job = job;
        _history = history;
        _policy = policy ?? JobPolicy.Default;
        Receive<StartRun>(start =>
        {
            var starter = Sender;
            var supervisor = Context.ActorOf(Props.Create(() => new JobSupervisor(_job, start, starter, _policy, _history)), $"job-{++_started}");
            Context.Watch(supervisor);
            _starters[supervisor] = starter;
        });
        Receive<JobStarted>(started => _running[started.RunId] = started.Supervisor);
        Receive<JobOutcome>(outcome =>
        {
            _starters.Remove(Sender);
            if (outcome.RunId is { } id)
                _running.Remove(id);
        });
        Receive<Terminated>(t =>
        {
            foreach (var id in _running.Where(r => r.Value.Equals(t.ActorRef)).Select(r => r.Key).ToList())
                _running.Remove(id);
            if (_starters.Remove(t.ActorRef, out var starter))
                starter.Tell(new JobFailed(null, "the job supervisor stopped before the run ended (it crashed; see the log)",
                    new InvalidOperationException("the job supervisor stopped unexpectedly")));
        });
        Receive<CancelRun>(cancel =>
        {
            if (_running.TryGetValue(cancel.RunId, out var supervisor))
                supervisor.Tell(CancelJob.Instance);
            else
                Sender.Tell(new Status.Failure(new KeyNotFoundException($"run {cancel.RunId} is not running")));
        });
        Receive<GetRunStatus>(query =>
        {
            if (_running.TryGetValue(query.RunId, out var supervisor))
                supervisor.Forward(query);
            else if (_job.Store.Exists(query.RunId))
            {
                var record = _job.Store.Get(query.RunId);
                Sender.Tell(new RunStatusReport(record.Id, record.Status, null, record.Retries.Count, record.Error));
            }
            else
                Sender.Tell(new RunStatusReport(query.RunId, null, null, 0, $"no run {query.RunId}"));
        });
    }

    /// <summary>A crashed job supervisor is stopped, never restarted (that would start its training again).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);
}
