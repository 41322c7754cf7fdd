using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Modeling.Config;

/// <summary>Typed access to a JSON object's fields, with errors that name the source and field.</summary>
internal sealed class FieldReader(JsonObject json, string source)
{
    public string Source => source;

    private JsonValue? Value(string field)
    {
        var node = json[field];
        if (node is null)
            return null;
        return node as JsonValue ?? throw Wrong(field, "a value", node);
    }

    public int? Int(string field)
    {
        var v = Value(field);
        if (v is null)
            return null;
        if (Number(v) is { } d && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
            return (int)d;
        throw Wrong(field, "an integer", v);
    }

    public double? Double(string field)
    {
        var v = Value(field);
        if (v is null)
            return null;
        return Number(v) ?? throw Wrong(field, "a number", v);
    }

    // Values parsed from text and values built in code (boxed int, double) both read as numbers.
    private static double? Number(JsonValue v) =>
        v.GetValueKind() == JsonValueKind.Number
            ? double.Parse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    public bool? Bool(string field)
    {
        var v = Value(field);
        if (v is null)
            return null;
        return v.TryGetValue<bool>(out var b) ? b : throw Wrong(field, "true or false", v);
    }

    public string? String(string field)
    {
        var v = Value(field);
        if (v is null)
            return null;
        return v.TryGetValue<string>(out var s) ? s : throw Wrong(field, "a string", v);
    }

    public JsonObject? Object(string field) => json[field] switch
    {
        null => null,
        JsonObject o => o,
        var other => throw Wrong(field, "an object", other),
    };

    /// <summary>An integer or a list of integers (eos_token_id may be either).</summary>
    public IReadOnlyList<int>? IntOrList(string field)
    {
        switch (json[field])
        {
            case null:
                return null;
            case JsonArray a:
                return a.Select((n, i) => n is JsonValue v && Number(v) is { } x && x == Math.Floor(x) ? (int)x : throw Wrong($"{field}[{i}]", "an integer", n)).ToList();
            default:
                return [Int(field)!.Value];
        }
    }

    public void Positive(string field, int value)
    {
        if (value <= 0)
            throw new ModelConfigException($"{source}: \"{field}\" must be positive, got {value}");
    }

    public ModelConfigException Missing(string field) => new($"{source}: missing \"{field}\"");

    private ModelConfigException Wrong(string field, string expected, JsonNode? got) =>
        new($"{source}: \"{field}\" must be {expected}, got {got?.ToJsonString() ?? "null"}");
}
