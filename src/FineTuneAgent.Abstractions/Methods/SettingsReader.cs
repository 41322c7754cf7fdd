using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// Reads a method's settings object field by field with errors that name the field, and
/// rejects keys no reader asked for, suggesting the nearest known one (a typo such as
/// `lora_alhpa` must not silently fall back to a default).
/// </summary>
public sealed class SettingsReader
{
    private readonly string _method;
    private readonly JsonObject _settings;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public SettingsReader(string method, JsonObject? settings)
    {
        _method = method;
        _settings = settings ?? new JsonObject();
    }

    public bool Has(string field)
    {
        _known.Add(field);
        return _settings.ContainsKey(field);
    }

    public int Int(string field, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = Node(field);
        if (node is null)
            return fallback;
        if (node is not JsonValue v || !TryNumber(v, out var d) || d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
            throw Error(field, $"expected an integer, got {node.ToJsonString()}");
        var i = (int)d;
        if (i < min || i > max)
            throw Error(field, $"{i} is out of range [{min}, {(max == int.MaxValue ? "∞" : max)}]");
        return i;
    }

    public double Double(string field, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool maxExclusive = false)
    {
        var node = Node(field);
        if (node is null)
            return fallback;
        if (node is not JsonValue v || !TryNumber(v, out var d) || !double.IsFinite(d))
            throw Error(field, $"expected a number, got {node.ToJsonString()}");
        if (d < min || d > max || (maxExclusive && d == max))
            throw Error(field, $"{d} is out of range [{min}, {max}{(maxExclusive ? ")" : "]")}");
        return d;
    }

    public double? OptionalDouble(string field, double min = double.NegativeInfinity)
    {
        if (Node(field) is null)
            return null;
        return Double(field, 0, min);
    }

    public bool Bool(string field, bool fallback)
    {
        var node = Node(field);
        if (node is null)
            return fallback;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b))
            return b;
        if (node is JsonValue s && s.TryGetValue<string>(out var text) && bool.TryParse(text, out b))
            return b;
        throw Error(field, $"expected true or false, got {node.ToJsonString()}");
    }

    public string String(string field, string fallback, IReadOnlyCollection<string>? allowed = null)
    {
        var node = Node(field);
        if (node is null)
            return fallback;
        if (node is not JsonValue v || !v.TryGetValue<string>(out var s))
            throw Error(field, $"expected a string, got {node.ToJsonString()}");
        if (allowed is not null && !allowed.Contains(s))
            throw Error(field, $"\"{s}\" is not one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}");
        return s;
    }

    /// <summary>
    /// The raw node of a field (null when absent), for fields with several accepted forms. An
    /// explicit JSON null is an error: leaving the field out is how to ask for the default.
    /// </summary>
    public JsonNode? Node(string field)
    {
        _known.Add(field);
        if (_settings.TryGetPropertyValue(field, out var node) && node is null)
            throw Error(field, "null is not a value; leave the field out for its default");
        return node;
    }

    public MethodSettingsException Error(string field, string message) => new(_method, field, message);

    /// <summary>Fails on any key that was never read, suggesting the closest known key.</summary>
    public void RejectUnknown()
    {
        foreach (var (key, _) in _settings)
        {
            if (_known.Contains(key))
                continue;
            var hint = Spelling.DidYouMean(key, _known);
            throw Error(key, $"unknown setting{hint} (known: {string.Join(", ", _known.Order(StringComparer.Ordinal))})");
        }
    }

    /// <summary>
    /// A number, whatever CLR type the node was built from (parsed JSON holds a JsonElement, a
    /// node built in code an int or a double), or a numeric string as HOCON and the CLI give.
    /// </summary>
    public static bool TryNumber(JsonNode? node, out double d)
    {
        d = 0;
        if (node is not JsonValue v)
            return false;
        var text = v.GetValueKind() switch
        {
            JsonValueKind.Number => v.ToJsonString(),
            JsonValueKind.String => v.GetValue<string>(),
            _ => null,
        };
        return text is not null && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d);
    }
}
