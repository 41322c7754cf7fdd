namespace FineTuneAgent.Actors.Event;

/// <summary>A failure the supervisor resumed from, or another condition worth a look.</summary>
public sealed record Warning(string LogSource, Type LogClass, string Message) : LogEvent(LogSource, LogClass, Message);
