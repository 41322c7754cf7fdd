namespace FineTuneAgent.Actors;

/// <summary>
/// Makes the actor fail with <see cref="ActorKilledException"/> when processed; the supervisor
/// decides (the default strategy stops it).
/// </summary>
public sealed class Kill
{
    public static readonly Kill Instance = new();

    private Kill()
    {
    }
}
