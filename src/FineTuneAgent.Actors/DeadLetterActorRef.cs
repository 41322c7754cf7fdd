using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary><see cref="ActorSystem.DeadLetters"/>: whatever is told to it is published as a <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterActorRef(EventStream eventStream, ActorPath path) : ActorRefBase
{
    public override ActorPath Path { get; } = path;

    public override bool IsTerminated => true;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        eventStream.Publish(message as DeadLetter ?? new DeadLetter(message, sender ?? this, this));
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this, ExistenceConfirmed: false));
        }
    }
}
