using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config.Hocon;

public sealed class HoconArray(IReadOnlyList<HoconValue> items, HoconPosition position) : HoconValue(position)
{
    public IReadOnlyList<HoconValue> Items { get; } = items;

    public override HoconValueType Type => HoconValueType.Array;

    public override JsonNode ToJsonNode() => new JsonArray(Items.Select(i => i.ToJsonNode()).ToArray());

    public override string Describe() => "an array";
}
