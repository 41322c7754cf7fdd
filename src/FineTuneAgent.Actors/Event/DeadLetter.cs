namespace FineTuneAgent.Actors.Event;

/// <summary>
/// Published on the event stream for a message that reached no actor: told to a stopped actor,
/// left in its mailbox when it stopped, told to dead letters, or a reply to no sender.
/// </summary>
public sealed record DeadLetter(object Message, IActorRef Sender, IActorRef Recipient);
