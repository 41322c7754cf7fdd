namespace FineTuneAgent.Actors;

/// <summary>
/// Replies that carry an outcome. Replying <see cref="Failure"/> to an Ask fails the asker's task
/// with <see cref="Failure.Cause"/>; PipeTo sends <see cref="Failure"/> when the piped task fails.
/// </summary>
public abstract class Status
{
    private Status()
    {
    }

    public sealed class Success(object? status) : Status
    {
        public object? Status { get; } = status;

        public override string ToString() => $"Success: {Status}";
    }

    public sealed class Failure(Exception cause, object? state = null) : Status
    {
        public Exception Cause { get; } = cause;
        public object? State { get; } = state;

        public override string ToString() => $"Failure: {Cause}";
    }
}
