namespace FineTuneAgent.Actors.Event;

/// <summary>
/// What the kernel reports about itself on the event stream (failures, exceptions in hooks), as
/// Akka's log events. Subscribe to <see cref="LogEvent"/> to see all of them.
/// </summary>
public abstract record LogEvent(string LogSource, Type LogClass, string Message)
{
    public DateTimeOffset Timestamp { get; } = DateTimeOffset.UtcNow;
}
