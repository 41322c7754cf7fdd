namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A configuration that cannot be read: bad syntax, an unresolvable substitution, a cycle, a
/// value of the wrong type. The message starts with file:line:column, as a compiler's does.
/// A FormatException, so the console reports it as the user's mistake, not a bug.
/// </summary>
public class HoconException(HoconPosition position, string problem) : FormatException($"{position}: {problem}")
{
    public HoconPosition Position { get; } = position;

    /// <summary>The message without the position.</summary>
    public string Problem { get; } = problem;
}
