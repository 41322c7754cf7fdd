namespace FineTuneAgent.Actors.Event;

/// <summary>An actor failed (restarted, stopped) or an exception escaped a lifecycle hook.</summary>
public sealed record Error(Exception? Cause, string LogSource, Type LogClass, string Message)
    : LogEvent(LogSource, LogClass, Message);
