namespace FineTuneAgent.Actors;

/// <summary>
/// An immutable, thread-safe handle to an actor, as Akka's IActorRef. Two references are equal
/// when they have the same path and uid (the same incarnation of the same actor).
/// </summary>
public interface IActorRef : ICanTell, IEquatable<IActorRef>, IComparable<IActorRef>
{
    ActorPath Path { get; }
}
