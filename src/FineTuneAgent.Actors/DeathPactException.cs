namespace FineTuneAgent.Actors;

/// <summary>
/// An actor watched <see cref="DeadActor"/> and did not handle its <see cref="Terminated"/>; the
/// default strategy stops it.
/// </summary>
public sealed class DeathPactException(IActorRef deadActor)
    : Exception($"Monitored actor {deadActor} terminated and its Terminated message was not handled")
{
    public IActorRef DeadActor { get; } = deadActor;
}
