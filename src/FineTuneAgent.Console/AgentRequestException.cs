namespace FineTuneAgent.Console;

/// <summary>A running agent refused a request or reported a run of it failed: shown as one line with the agent's own reason.</summary>
public sealed class AgentRequestException(string message, Exception? inner = null) : Exception(message, inner);
