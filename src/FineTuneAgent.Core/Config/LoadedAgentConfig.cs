using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// The agent's configuration as loaded: the bound settings, the resolved tree they came from,
/// the file read over the built-in defaults (null: the defaults alone) and the warnings found.
/// </summary>
public sealed record LoadedAgentConfig(AgentSettings Settings, HoconObject Tree, string? Source, IReadOnlyList<ConfigProblem> Warnings);
