namespace FineTuneAgent.Actors.Dispatch;

/// <summary>A user message and its sender, as queued in a mailbox.</summary>
internal readonly record struct Envelope(object Message, IActorRef Sender);
