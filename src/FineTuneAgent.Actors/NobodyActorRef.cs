using FineTuneAgent.Actors.Dispatch;
using FineTuneAgent.Actors.Event;

namespace FineTuneAgent.Actors;

/// <summary>
/// <see cref="ActorRefs.Nobody"/>. Belongs to no system, so a message told to it goes to the dead
/// letters of the system it is told from (the current actor's, or the sender's) when one is known.
/// </summary>
internal sealed class NobodyActorRef : ActorRefBase
{
    public override ActorPath Path { get; } = ActorPath.Root("all-systems").Child("Nobody");

    public override bool IsTerminated => true;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        var system = ActorCell.Current?.System ?? (sender as LocalActorRef)?.Cell.System;
        system?.EventStream.Publish(new DeadLetter(message, sender ?? system.DeadLetters, this));
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this, ExistenceConfirmed: false));
        }
    }
}
