namespace FineTuneAgent.Actors;

/// <summary>
/// Received by a watcher once the watched actor has stopped (after its PostStop), or at once when
/// it was already dead when watched. An actor that does not handle it fails with
/// <see cref="DeathPactException"/>.
/// </summary>
public sealed record Terminated(IActorRef ActorRef, bool ExistenceConfirmed, bool AddressTerminated) : INotInfluenceReceiveTimeout;
