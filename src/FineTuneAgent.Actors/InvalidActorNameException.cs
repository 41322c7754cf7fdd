namespace FineTuneAgent.Actors;

/// <summary>An actor name that is empty, malformed, or already taken by a live sibling.</summary>
public sealed class InvalidActorNameException(string message) : ArgumentException(message);
