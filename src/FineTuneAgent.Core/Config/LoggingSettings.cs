namespace FineTuneAgent.Core.Config;

/// <summary>agent.logging.</summary>
public sealed record LoggingSettings
{
    public AgentLogLevel Level { get; init; } = AgentLogLevel.Info;
}
