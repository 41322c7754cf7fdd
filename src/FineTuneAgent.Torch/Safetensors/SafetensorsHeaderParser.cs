using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace FineTuneAgent.Torch;

/// <summary>
/// Turns header JSON into tensor entries, rejecting what the reference deserializer rejects:
/// a header not starting with '{', invalid UTF-8 or JSON, duplicate keys, non-string metadata,
/// unknown dtypes, negative or non-integer shape entries and offsets. Offsets are checked
/// against each other afterwards, by <see cref="SafetensorsHeader"/>. A hand-written reader
/// rather than JsonDocument because JsonDocument silently keeps duplicate keys.
/// </summary>
internal static class SafetensorsHeaderParser
{
    internal const string MetadataKey = "__metadata__";

    public static (Dictionary<string, string>? Metadata, List<SafetensorsTensorInfo> Tensors) Parse(ReadOnlySpan<byte> json, string path)
    {
        if (json.IsEmpty || json[0] != (byte)'{')
            throw new SafetensorsException(path, null, $"header must start with '{{', found {Describe(json)}; this is not a safetensors file or it is corrupt");
        if (!Utf8.IsValid(json))
            throw new SafetensorsException(path, null, "header is not valid UTF-8");
        try
        {
            var reader = new Utf8JsonReader(json);
            reader.Read(); // the '{' checked above
            var keys = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, string>? metadata = null;
            var tensors = new List<SafetensorsTensorInfo>();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                if (!keys.Add(key))
                    throw new SafetensorsException(path, null, $"header has the key '{key}' twice");
                reader.Read();
                if (key == MetadataKey)
                    metadata = ReadMetadata(ref reader, path);
                else
                    tensors.Add(ReadTensor(ref reader, key, path));
            }
            // Anything but whitespace after the closing brace makes the reader throw.
            while (reader.Read()) { }
            return (metadata, tensors);
        }
        catch (JsonException e)
        {
            throw new SafetensorsException(path, null, $"header is not valid JSON: {e.Message}", e);
        }
    }

    private static Dictionary<string, string>? ReadMetadata(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsException(path, null, $"{MetadataKey} must be an object of strings, found {reader.TokenType}");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw new SafetensorsException(path, null, $"{MetadataKey} values must be strings, but '{key}' is {Describe(ref reader)}");
            if (!result.TryAdd(key, reader.GetString()!))
                throw new SafetensorsException(path, null, $"{MetadataKey} has the key '{key}' twice");
        }
        return result;
    }

    private static SafetensorsTensorInfo ReadTensor(ref Utf8JsonReader reader, string name, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsException(path, name, $"entry must be an object with dtype, shape and data_offsets, found {reader.TokenType}");
        SafetensorsDType? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.GetString()!;
            reader.Read();
            var duplicate = field switch
            {
                "dtype" => dtype is not null,
                "shape" => shape is not null,
                "data_offsets" => offsets is not null,
                _ => false,
            };
            if (duplicate)
                throw new SafetensorsException(path, name, $"field '{field}' appears twice");
            switch (field)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String)
                        throw new SafetensorsException(path, name, $"dtype must be a string, found {Describe(ref reader)}");
                    var text = reader.GetString()!;
                    if (!SafetensorsDTypes.TryParse(text, out var parsed))
                        throw new SafetensorsException(path, name, $"unknown dtype '{text}'");
                    dtype = parsed;
                    break;
                case "shape":
                    shape = ReadIntegers(ref reader, path, name, "shape");
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, path, name, "data_offsets");
                    if (offsets.Length != 2)
                        throw new SafetensorsException(path, name, $"data_offsets must be [BEGIN, END], found {offsets.Length} numbers");
                    break;
                default:
                    // The reference ignores fields it does not know; so do we.
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            var missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw new SafetensorsException(path, name, $"entry has no '{missing}'");
        }
        return new SafetensorsTensorInfo(name, dtype.Value, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string path, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafetensorsException(path, name, $"{field} must be an array of non-negative integers, found {Describe(ref reader)}");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var v) || v < 0)
                throw new SafetensorsException(path, name, $"{field} entries must be non-negative integers, found {Describe(ref reader)}");
            values.Add(v);
        }
        return [.. values];
    }

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null =>
            Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => $"the string \"{reader.GetString()}\"",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        var other => other.ToString(),
    };

    private static string Describe(ReadOnlySpan<byte> header) =>
        header.IsEmpty ? "an empty header" : $"byte 0x{header[0]:X2}";
}
