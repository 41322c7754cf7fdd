using FineTuneAgent.Core.Config.Hocon;

namespace FineTuneAgent.Core.Config;

/// <summary>
/// One warning or error about a setting: its full path, what is wrong, and where the value was
/// written. Reads as <c>agent.http.port: expected a number, got "abc" (agent.hocon:12:10)</c>.
/// </summary>
public sealed record ConfigProblem(string Path, string Message, HoconPosition? Position)
{
    public override string ToString() => Position is null ? $"{Path}: {Message}" : $"{Path}: {Message} ({Position})";
}
