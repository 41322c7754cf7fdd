namespace FineTuneAgent.Core.Config;

/// <summary>The agent's log level (agent.logging.level): trace, debug, info, warning, error, off.</summary>
public enum AgentLogLevel
{
    Trace,
    Debug,
    Info,
    Warning,
    Error,
    Off,
}
