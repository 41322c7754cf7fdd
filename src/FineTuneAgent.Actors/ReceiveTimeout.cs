namespace FineTuneAgent.Actors;

/// <summary>Sent to an actor that received no message for the time set by <c>Context.SetReceiveTimeout</c>.</summary>
public sealed class ReceiveTimeout : INotInfluenceReceiveTimeout
{
    public static readonly ReceiveTimeout Instance = new();

    private ReceiveTimeout()
    {
    }
}
