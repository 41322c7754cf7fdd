namespace FineTuneAgent.Core.Config;

/// <summary>
/// A configuration whose settings cannot be used: every error at once (as torchtune reports
/// config errors), each naming its path and position. A FormatException: the user's mistake.
/// </summary>
public sealed class ConfigException(IReadOnlyList<ConfigProblem> errors, IReadOnlyList<ConfigProblem> warnings)
    : FormatException(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigProblem> Errors { get; } = errors;

    /// <summary>Warnings found on the way (unknown keys), so a caller can still show them.</summary>
    public IReadOnlyList<ConfigProblem> Warnings { get; } = warnings;
}
