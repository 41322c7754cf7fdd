using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Stages;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Agent.Jobs;

/// <summary>
/// A run as a caller outside the actor system sees it (`fta train`, tests): starts <paramref name="start"/>
/// through the AgentRoot, hands every training event to <paramref name="onEvent"/> (on the client actor,
/// one at a time, in order), cancels when the token fires, and completes with the outcome.
/// </summary>
public static class JobClient
{
    public static Task<JobOutcome> Run(ActorSystem system, IActorRef root, StartRun start, Action<TrainingEvent> onEvent, CancellationToken cancellation = default)
    {
        var outcome = new TaskCompletionSource<JobOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = system.ActorOf(Props.Create(() => new ClientActor(root, start, onEvent, outcome)));
        var registration = cancellation.Register(() => client.Tell(CancelJob.Instance));
        return outcome.Task.ContinueWith(t =>
        {
            registration.Dispose();
            return t.Result;
        }, TaskScheduler.Default);
    }

    private sealed class ClientActor : ReceiveActor
    {
        private readonly IActorRef _root;
        private readonly StartRun _start;
        private IActorRef? _supervisor;
        private bool _cancel;

        public ClientActor(IActorRef root, StartRun start, Action<TrainingEvent> onEvent, TaskCompletionSource<JobOutcome> outcome)
        {
            _root = root;
            _start = start;
            Receive<JobStarted>(started =>
            {
                _supervisor = started.Supervisor;
                if (_cancel)
                    _supervisor.Tell(CancelJob.Instance);
            });
            Receive<TrainingProgress>(p => onEvent(p.Event));
            Receive<CancelJob>(_ =>
            {
                _cancel = true;
                _supervisor?.Tell(CancelJob.Instance);
            });
            Receive<JobOutcome>(o =>
            {
                outcome.TrySetResult(o);
                Context.Stop(Self);
            });
        }

        protected override void PreStart() => _root.Tell(_start, Self);
    }
}
