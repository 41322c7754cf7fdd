namespace FineTuneAgent.Actors;

/// <summary>Thrown inside an actor by a <see cref="Kill"/> message; the default strategy stops it.</summary>
public sealed class ActorKilledException(string message) : Exception(message);
