namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>An array literal; its elements may hold substitutions.</summary>
internal sealed class HoconArrayNode(HoconPosition position, List<HoconNode> items) : HoconNode(position)
{
    public List<HoconNode> Items { get; } = items;
}
