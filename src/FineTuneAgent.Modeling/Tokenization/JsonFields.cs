using System.Text.Json;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>Typed access to fields of a tokenizer file, with errors that name the file and field.</summary>
internal sealed class JsonFields(string filePath)
{
    public string FilePath { get; } = filePath;

    public TokenizerLoadException Invalid(string where, string message) =>
        new(TokenizerLoadError.Invalid, FilePath, where, message);

    public TokenizerLoadException Unsupported(string where, string message) =>
        new(TokenizerLoadError.Unsupported, FilePath, where, message);

    public void RequireKind(JsonElement element, JsonValueKind kind, string where)
    {
        if (element.ValueKind != kind)
        {
            throw Invalid(where, $"expected {Describe(kind)}, found {Describe(element.ValueKind)}");
        }
    }

    public JsonElement Required(JsonElement obj, string name, string where)
    {
        RequireKind(obj, JsonValueKind.Object, where);
        return obj.TryGetProperty(name, out var value)
            ? value
            : throw Invalid(Join(where, name), "missing field");
    }

    public string RequiredString(JsonElement obj, string name, string where)
    {
        var value = Required(obj, name, where);
        RequireKind(value, JsonValueKind.String, Join(where, name));
        return value.GetString()!;
    }

    public string? OptionalString(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        RequireKind(value, JsonValueKind.String, Join(where, name));
        return value.GetString();
    }

    public bool OptionalBool(JsonElement obj, string name, string where, bool fallback)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(Join(where, name), $"expected a boolean, found {Describe(value.ValueKind)}"),
        };
    }

    public int RequiredInt(JsonElement obj, string name, string where)
    {
        var value = Required(obj, name, where);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)
            ? i
            : throw Invalid(Join(where, name), "expected an integer");
    }

    public int OptionalInt(JsonElement obj, string name, string where, int fallback)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)
            ? i
            : throw Invalid(Join(where, name), "expected an integer");
    }

    /// <summary>One character (a Rust <c>char</c>, so possibly a surrogate pair in C#).</summary>
    public string RequiredChar(JsonElement obj, string name, string where)
    {
        var s = RequiredString(obj, name, where);
        return s.EnumerateRunes().Count() == 1 ? s : throw Invalid(Join(where, name), "expected a single character");
    }

    /// <summary>An entry of <c>added_tokens</c> or <c>added_tokens_decoder</c>.</summary>
    public AddedToken ReadAddedToken(JsonElement obj, string where, int? id = null)
    {
        RequireKind(obj, JsonValueKind.Object, where);
        var special = OptionalBool(obj, "special", where, false);
        return new AddedToken(
            id ?? RequiredInt(obj, "id", where),
            RequiredString(obj, "content", where),
            SingleWord: OptionalBool(obj, "single_word", where, false),
            LStrip: OptionalBool(obj, "lstrip", where, false),
            RStrip: OptionalBool(obj, "rstrip", where, false),
            Normalized: OptionalBool(obj, "normalized", where, !special),
            Special: special);
    }

    public static string Join(string where, string name) => where.Length == 0 ? name : $"{where}.{name}";

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
