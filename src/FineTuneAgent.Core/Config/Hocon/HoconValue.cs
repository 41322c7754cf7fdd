using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>A value of a resolved configuration: no substitutions left, each value knowing where it was written.</summary>
public abstract class HoconValue(HoconPosition position)
{
    public HoconPosition Position { get; } = position;

    public abstract HoconValueType Type { get; }

    /// <summary>The same data as JSON: objects, arrays, strings, numbers (as written), booleans, null.</summary>
    public abstract JsonNode? ToJsonNode();

    /// <summary>How the value reads in an error message: a string quoted, a number as written, "an object".</summary>
    public abstract string Describe();
}
