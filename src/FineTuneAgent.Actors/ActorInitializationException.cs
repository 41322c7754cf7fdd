namespace FineTuneAgent.Actors;

/// <summary>
/// An actor failed while being created or restarted (constructor, PreStart, PostRestart). The
/// default strategy stops such an actor.
/// </summary>
public sealed class ActorInitializationException(IActorRef? actor, string message, Exception? cause)
    : Exception(message, cause)
{
    public IActorRef? Actor { get; } = actor;
}
