namespace FineTuneAgent.Actors;

/// <summary>An <see cref="UntypedActor"/> behaviour; it calls Unhandled itself for messages it does not handle.</summary>
public delegate void UntypedReceive(object message);
