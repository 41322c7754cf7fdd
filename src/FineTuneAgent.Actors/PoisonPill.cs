namespace FineTuneAgent.Actors;

/// <summary>
/// Stops the actor when it reaches the front of the mailbox: messages queued before it are
/// processed, messages after it go to dead letters.
/// </summary>
public sealed class PoisonPill
{
    public static readonly PoisonPill Instance = new();

    private PoisonPill()
    {
    }
}
