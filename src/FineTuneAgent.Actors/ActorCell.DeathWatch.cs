using FineTuneAgent.Actors.Dispatch;

namespace FineTuneAgent.Actors;

/// <summary>
/// DeathWatch: who this actor watches, who watches it, and the <see cref="Terminated"/> messages
/// in flight. A parent is told of a child's death like a watcher, without asking.
/// </summary>
internal sealed partial class ActorCell
{
    private readonly HashSet<IActorRef> _watching = [];
    private readonly HashSet<IActorRef> _terminatedQueued = [];
    private readonly HashSet<IInternalActorRef> _watchedBy = [];

    public IActorRef Watch(IActorRef subject)
    {
        if (subject is not IInternalActorRef target)
        {
            throw new ArgumentException($"Cannot watch {subject}: not a reference of this kernel.", nameof(subject));
        }
        if (!subject.Equals(Self) && _watching.Add(subject))
        {
            target.SendSystemMessage(new Watch(target, Self));
        }
        return subject;
    }

    public IActorRef Unwatch(IActorRef subject)
    {
        if (subject is IInternalActorRef target && _watching.Remove(subject))
        {
            target.SendSystemMessage(new Unwatch(target, Self));
        }
        _terminatedQueued.Remove(subject);
        return subject;
    }

    private void HandleWatch(Watch watch)
    {
        if (watch.Watchee.Equals(Self) && !watch.Watcher.Equals(Self))
        {
            _watchedBy.Add(watch.Watcher);
        }
    }

    private void HandleUnwatch(Unwatch unwatch) => _watchedBy.Remove(unwatch.Watcher);

    private void HandleDeathWatchNotification(DeathWatchNotification notification)
    {
        var actor = notification.Actor;
        if (_watching.Remove(actor) && !_terminating)
        {
            _terminatedQueued.Add(actor);
            _mailbox.Post(new Envelope(new Terminated(actor, notification.ExistenceConfirmed, AddressTerminated: false), actor));
        }
        if (IsChild(actor))
        {
            HandleChildTerminated(actor);
        }
    }

    private void UnwatchWatchedActors()
    {
        foreach (var subject in _watching)
        {
            var target = (IInternalActorRef)subject;
            target.SendSystemMessage(new Unwatch(target, Self));
        }
        _watching.Clear();
        _terminatedQueued.Clear();
    }

    private void TellWatchersWeDied()
    {
        foreach (var watcher in _watchedBy)
        {
            if (!watcher.Equals(Parent))
            {
                watcher.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: true));
            }
        }
        _watchedBy.Clear();
    }

    /// <summary>A system message that reached this actor after it stopped.</summary>
    internal void SystemInvokeWhenDead(SystemMessage message)
    {
        if (message is Watch watch && watch.Watchee.Equals(Self) && !watch.Watcher.Equals(Self))
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: true));
        }
    }
}
