namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A value concatenation that needs resolving first: it holds a substitution, so whether it is a
/// string, an array or an object is known only once the substitution is.
/// </summary>
internal sealed class HoconConcatenationNode(HoconPosition position, List<HoconNode> parts) : HoconNode(position)
{
    public List<HoconNode> Parts { get; } = parts;
}
