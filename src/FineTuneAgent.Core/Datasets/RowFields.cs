using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>Typed access to a row's fields; every error names the row's location and the field.</summary>
internal readonly struct RowFields
{
    private readonly JsonElement _row;

    public RowFields(RawRow row)
    {
        At = row.At;
        if (row.Value.ValueKind != JsonValueKind.Object)
            throw new DatasetException($"a row must be a JSON object, got {Kind(row.Value)}", At);
        _row = row.Value;
    }

    public SourceLocation At { get; }

    public bool Has(string name) => _row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The string in <paramref name="name"/>; missing or null is an error naming the mapping key.</summary>
    public string RequiredString(string name, string mappingKey) =>
        OptionalString(name) ?? throw new DatasetException(
            $"missing column (columns.{mappingKey}); the row has: {string.Join(", ", Names())}", At, name);

    /// <summary>The string in <paramref name="name"/>, or null when missing or null.</summary>
    public string? OptionalString(string name)
    {
        if (!_row.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw WrongType(name, "a string", v);
    }

    /// <summary>The array in <paramref name="name"/>, or null when missing or null.</summary>
    public JsonElement? OptionalArray(string name)
    {
        if (!_row.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.Array ? v : throw WrongType(name, "an array", v);
    }

    public JsonElement? Optional(string name) =>
        _row.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public DatasetException WrongType(string field, string expected, JsonElement got) =>
        new($"must be {expected}, got {Kind(got)}", At, field);

    public DatasetException Error(string what, string? field = null) => new(what, At, field);

    private IEnumerable<string> Names() => _row.EnumerateObject().Select(p => p.Name).DefaultIfEmpty("(no fields)");

    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };
}
