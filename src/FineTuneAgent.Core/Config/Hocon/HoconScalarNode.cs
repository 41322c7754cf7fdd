namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>A string, number, boolean or null as written (already a resolved value).</summary>
internal sealed class HoconScalarNode(HoconScalar value, bool isWhitespace = false) : HoconNode(value.Position)
{
    public HoconScalar Value { get; } = value;

    /// <summary>Whitespace between the parts of a value concatenation: kept only between two simple values.</summary>
    public bool IsWhitespace { get; } = isWhitespace;
}
