using System.Collections.Immutable;

namespace FineTuneAgent.Actors.Event;

/// <summary>
/// The system's publish-subscribe bus, as Akka's EventStream. A subscriber to a type receives
/// every published event of that type or a type derived from it (subscribe to
/// <see cref="object"/> to receive everything). Thread-safe; publishing tells each subscriber
/// with no sender.
/// </summary>
public sealed class EventStream
{
    private ImmutableList<(IActorRef Subscriber, Type Channel)> _subscriptions = [];

    /// <summary>Subscribes to <paramref name="channel"/>; false if already subscribed to it.</summary>
    public bool Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        var added = false;
        ImmutableInterlocked.Update(ref _subscriptions, list =>
        {
            added = !list.Contains((subscriber, channel));
            return added ? list.Add((subscriber, channel)) : list;
        });
        return added;
    }

    /// <summary>Unsubscribes from <paramref name="channel"/>; false if not subscribed to it.</summary>
    public bool Unsubscribe(IActorRef subscriber, Type channel)
    {
        var removed = false;
        ImmutableInterlocked.Update(ref _subscriptions, list =>
        {
            removed = list.Contains((subscriber, channel));
            return removed ? list.Remove((subscriber, channel)) : list;
        });
        return removed;
    }

    /// <summary>Unsubscribes from every channel; false if there was no subscription.</summary>
    public bool Unsubscribe(IActorRef subscriber)
    {
        var removed = false;
        ImmutableInterlocked.Update(ref _subscriptions, list =>
        {
            var kept = list.RemoveAll(s => s.Subscriber.Equals(subscriber));
            removed = kept.Count != list.Count;
            return kept;
        });
        return removed;
    }

    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var type = @event.GetType();
        foreach (var (subscriber, channel) in Volatile.Read(ref _subscriptions))
        {
            if (channel.IsAssignableFrom(type))
            {
                subscriber.Tell(@event, ActorRefs.NoSender);
            }
        }
    }
}
