namespace FineTuneAgent.Actors;

/// <summary>Anything a message can be told to, as Akka's ICanTell.</summary>
public interface ICanTell
{
    /// <summary>
    /// Sends <paramref name="message"/> without waiting. <paramref name="sender"/> is what the
    /// receiver sees as <c>Sender</c>; <see cref="ActorRefs.NoSender"/> (null) makes replies go to
    /// dead letters.
    /// </summary>
    void Tell(object message, IActorRef? sender);
}
