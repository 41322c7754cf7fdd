using System.Globalization;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A string, number, boolean or null. <see cref="Text"/> is the string itself, or the number as
/// it was written (the spec keeps the spelling: <c>1e5</c> stays <c>1e5</c> in a concatenation).
/// </summary>
public sealed class HoconScalar(HoconValueType type, string text, HoconPosition position) : HoconValue(position)
{
    public override HoconValueType Type { get; } = type is HoconValueType.String or HoconValueType.Number or HoconValueType.Boolean or HoconValueType.Null
        ? type
        : throw new ArgumentException($"{type} is not a scalar type", nameof(type));

    public string Text { get; } = text;

    public static HoconScalar String(string s, HoconPosition position) => new(HoconValueType.String, s, position);

    public override JsonNode? ToJsonNode() => Type switch
    {
        HoconValueType.String => JsonValue.Create(Text),
        HoconValueType.Boolean => JsonValue.Create(Text == "true"),
        HoconValueType.Null => null,
        _ => long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            ? JsonValue.Create(l)
            : JsonValue.Create(double.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture)),
    };

    public override string Describe() => Type == HoconValueType.String ? HoconStrings.Quote(Text) : Text;

    public override string ToString() => Text;
}
