namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>An already resolved value standing in a merge stack (a fallback configuration's values).</summary>
internal sealed class HoconResolvedNode(HoconValue value) : HoconNode(value.Position)
{
    public HoconValue Value { get; } = value;
}
