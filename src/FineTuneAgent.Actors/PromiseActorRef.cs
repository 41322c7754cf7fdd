using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// The temporary sender of an Ask (<c>/temp/$n</c>): the first reply completes the task
/// (<see cref="Status.Failure"/> faults it); anything after that goes to dead letters.
/// </summary>
internal sealed class PromiseActorRef(ActorSystem system, ActorPath path) : ActorRefBase
{
    private readonly TaskCompletionSource<object> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<object> Result => _result.Task;

    public override ActorPath Path { get; } = path;

    public override bool IsTerminated => _result.Task.IsCompleted;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        var completed = message is Status.Failure failure
            ? _result.TrySetException(failure.Cause)
            : _result.TrySetResult(message);
        if (!completed)
        {
            system.EventStream.Publish(new DeadLetter(message, sender ?? system.DeadLetters, this));
        }
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch && IsTerminated)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this, ExistenceConfirmed: true));
        }
    }

    /// <summary>Completes the ask with a timeout; false if a reply came first.</summary>
    public bool TryTimeOut(Exception timeout) => _result.TrySetException(timeout);
}
