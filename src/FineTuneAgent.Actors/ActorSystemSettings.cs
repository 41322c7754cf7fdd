namespace FineTuneAgent.Actors;

/// <summary>Settings of an <see cref="ActorSystem"/>.</summary>
public sealed record ActorSystemSettings
{
    public static readonly ActorSystemSettings Default = new();

    /// <summary>User messages an actor processes before yielding its pool thread (Akka's default is 30).</summary>
    public int Throughput { get; init; } = 30;

    /// <summary>How the user guardian supervises top-level actors.</summary>
    public SupervisorStrategy GuardianSupervisorStrategy { get; init; } = SupervisorStrategy.DefaultStrategy;

    /// <summary>How long <see cref="ActorSystem.Dispose"/> waits for termination.</summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
