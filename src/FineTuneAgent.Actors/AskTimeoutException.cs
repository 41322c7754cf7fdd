namespace FineTuneAgent.Actors;

/// <summary>An Ask got no reply within its timeout, or its recipient was already dead.</summary>
public sealed class AskTimeoutException(string message) : TimeoutException(message);
