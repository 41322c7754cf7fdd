namespace FineTuneAgent.Actors.Event;

/// <summary>Published on the event stream when an actor's behaviour did not handle a message.</summary>
public sealed record UnhandledMessage(object Message, IActorRef Sender, IActorRef Recipient);
