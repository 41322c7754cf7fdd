using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Reads a LLaMA-Factory style dataset_info.json: an object of named entries, each
/// <c>{"file_name", "formatting", "columns": {...}, "tags": {...}}</c>. <c>file_name</c> is relative to the
/// info file's folder. Only local files are supported (hf_hub_url, ms_hub_url, script_url and
/// ranking data are reported as such); unknown keys are errors, so a typo does not pass silently.
/// Every error names the info file, the entry's line and the key.
/// </summary>
public static class DatasetInfoFile
{
    private static readonly string[] s_entryKeys = ["file_name", "formatting", "columns", "tags", "file_sha1", "split", "num_samples"];
    private static readonly string[] s_remoteKeys = ["hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name"];

    public static IReadOnlyDictionary<string, DatasetDescription> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new DatasetException("dataset info file not found", new SourceLocation(path));
        var bytes = File.ReadAllBytes(path);
        var lines = new LineMap(bytes);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var result = new Dictionary<string, DatasetDescription>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new DatasetException("expected a JSON object of named datasets", new SourceLocation(path, 1));
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                var at = new SourceLocation(path, lines.LineOf(reader.TokenStartIndex));
                reader.Read();
                var entry = JsonElement.ParseValue(ref reader);
                result[name] = Entry(name, entry, at, folder);
            }
        }
        catch (JsonException e)
        {
            throw new DatasetException($"malformed JSON: {e.Message}", new SourceLocation(path, (int)(e.LineNumber ?? 0) + 1), column: (int)(e.BytePositionInLine ?? 0) + 1, inner: e);
        }
        return result;
    }

    /// <summary>The entry named <paramref name="name"/>, or an error listing the names there are.</summary>
    public static DatasetDescription Get(string path, string name)
    {
        var all = Load(path);
        return all.TryGetValue(name, out var d) ? d
            : throw new DatasetException($"no dataset named '{name}' (defined: {string.Join(", ", all.Keys)})", new SourceLocation(path));
    }

    private static DatasetDescription Entry(string name, JsonElement entry, SourceLocation at, string folder)
    {
        DatasetException Error(string what, string field) => new($"dataset '{name}': {what}", at, field);
        if (entry.ValueKind != JsonValueKind.Object)
            throw Error($"must be an object, got {RowFields.Kind(entry)}", name);
        foreach (var p in entry.EnumerateObject())
        {
            if (s_remoteKeys.Contains(p.Name))
                throw Error("only local datasets (file_name) are supported", p.Name);
            if (p.Name == "ranking" && p.Value.ValueKind == JsonValueKind.True)
                throw Error("ranking (preference) data is not supported by supervised fine-tuning", p.Name);
            if (p.Name != "ranking" && !s_entryKeys.Contains(p.Name))
                throw Error($"unknown key (known: {string.Join(", ", s_entryKeys)})", p.Name);
        }
        var file = Text(entry, "file_name", Error) ?? throw Error("missing (the data file, relative to this file)", "file_name");
        var d = new DatasetDescription(Path.Combine(folder, file)) { Name = name };
        if (Text(entry, "formatting", Error) is { } formatting)
            d = d with { Format = DatasetFormats.Parse(formatting, at, "formatting") };
        if (entry.TryGetProperty("columns", out var columns))
            d = d with { Columns = Map(columns, d.Columns, DatasetColumns.Keys, (c, k, v) => c.With(k, v), "columns", Error) };
        if (entry.TryGetProperty("tags", out var tags))
            d = d with { Tags = Map(tags, d.Tags, DatasetTags.Keys, (t, k, v) => t.With(k, v), "tags", Error) };
        return d;
    }

    private static T Map<T>(JsonElement obj, T value, IReadOnlyList<string> keys, Func<T, string, string, T> with, string what, Func<string, string, DatasetException> error)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw error($"must be an object, got {RowFields.Kind(obj)}", what);
        foreach (var p in obj.EnumerateObject())
        {
            if (!keys.Contains(p.Name))
                throw error($"unknown key (known: {string.Join(", ", keys)})", $"{what}.{p.Name}");
            if (p.Value.ValueKind != JsonValueKind.String)
                throw error($"must be a string, got {RowFields.Kind(p.Value)}", $"{what}.{p.Name}");
            value = with(value, p.Name, p.Value.GetString()!);
        }
        return value;
    }

    private static string? Text(JsonElement entry, string key, Func<string, string, DatasetException> error)
    {
        if (!entry.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw error($"must be a string, got {RowFields.Kind(v)}", key);
    }
}
