namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A piece of the parsed, not yet resolved document. Substitutions stay unresolved until the
/// whole document (with its includes) is parsed, because a substitution may look forward.
/// </summary>
internal abstract class HoconNode(HoconPosition position)
{
    public HoconPosition Position { get; } = position;
}
