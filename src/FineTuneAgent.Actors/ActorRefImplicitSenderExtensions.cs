namespace FineTuneAgent.Actors;

/// <summary>
/// <c>actor.Tell(message)</c> without a sender, as Akka's: inside an actor the sender is Self (so
/// the receiver can reply), elsewhere <see cref="ActorRefs.NoSender"/>.
/// </summary>
public static class ActorRefImplicitSenderExtensions
{
    public static void Tell(this ICanTell receiver, object message)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        receiver.Tell(message, ActorCell.Current?.Self);
    }

    /// <summary>Tells with the current message's sender, so the receiver replies to the original asker.</summary>
    public static void Forward(this ICanTell receiver, object message)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        receiver.Tell(message, ActorCell.Current?.Sender);
    }
}
