using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A resolved object: fields in the order they were first written. Getters take a path
/// expression (<c>"agent.http.port"</c>) and convert as the spec's API recommendations say;
/// a missing path or a value of the wrong type throws <see cref="HoconException"/> naming the
/// path and where the value was written.
/// </summary>
public sealed class HoconObject(IReadOnlyList<KeyValuePair<string, HoconValue>> fields, HoconPosition position) : HoconValue(position)
{
    private readonly Dictionary<string, HoconValue> _byKey = fields.ToDictionary(f => f.Key, f => f.Value);

    public IReadOnlyList<KeyValuePair<string, HoconValue>> Fields { get; } = fields;

    public IEnumerable<string> Keys => Fields.Select(f => f.Key);

    public override HoconValueType Type => HoconValueType.Object;

    /// <summary>The field named <paramref name="key"/> (one key, not a path), or null.</summary>
    public HoconValue? this[string key] => _byKey.GetValueOrDefault(key);

    public override JsonNode ToJsonNode()
    {
        var o = new JsonObject();
        foreach (var (key, value) in Fields)
            o[key] = value.ToJsonNode();
        return o;
    }

    public override string Describe() => "an object";

    /// <summary>The value at a path expression, or false when some element of the path is not set.</summary>
    public bool TryGetValue(string path, out HoconValue value) => TryGetValue(HoconPath.Parse(path), out value);

    public bool TryGetValue(IReadOnlyList<string> path, out HoconValue value)
    {
        value = this;
        foreach (var key in path)
        {
            if (value is not HoconObject o || o[key] is not { } next)
                return false;
            value = next;
        }
        return true;
    }

    public bool HasPath(string path) => TryGetValue(path, out _);

    public HoconValue GetValue(string path) =>
        TryGetValue(path, out var v) ? v : throw new HoconException(Position, $"{path}: not set");

    public string GetString(string path) => Get<string>(path, HoconConversions.TryString);

    public bool GetBoolean(string path) => Get<bool>(path, HoconConversions.TryBoolean);

    public long GetInt64(string path) => Get<long>(path, HoconConversions.TryInt64);

    public int GetInt32(string path) => (int)Get<long>(path, (HoconValue v, out long l, out string p) => HoconConversions.TryWhole(v, int.MinValue, int.MaxValue, out l, out p));

    public double GetDouble(string path) => Get<double>(path, HoconConversions.TryDouble);

    /// <summary>A duration: a number is milliseconds, a string is a number with a unit ("10s", "1.5 hours").</summary>
    public TimeSpan GetDuration(string path) => Get<TimeSpan>(path, HoconConversions.TryDuration);

    /// <summary>A size in bytes: a number is bytes, a string is a number with a unit ("512K" = 524288, "10MB" = 10^7).</summary>
    public long GetBytes(string path) => Get<long>(path, HoconConversions.TryBytes);

    public HoconObject GetObject(string path) => Get<HoconObject>(path, (HoconValue v, out HoconObject o, out string p) =>
    {
        o = (v as HoconObject)!;
        p = $"expected an object, got {v.Describe()}";
        return o is not null;
    });

    public HoconArray GetArray(string path) => Get<HoconArray>(path, (HoconValue v, out HoconArray a, out string p) =>
    {
        a = (v as HoconArray)!;
        p = $"expected an array, got {v.Describe()}";
        return a is not null;
    });

    /// <summary>
    /// This object over <paramref name="fallback"/>: keys of both, this object's value where both
    /// have one, objects under the same key merged recursively (the spec's merge rule).
    /// </summary>
    public HoconObject WithFallback(HoconObject fallback)
    {
        var merged = new List<KeyValuePair<string, HoconValue>>();
        foreach (var (key, older) in fallback.Fields)
        {
            var value = this[key] switch
            {
                null => older,
                HoconObject newer when older is HoconObject olderObject => newer.WithFallback(olderObject),
                var newer => newer,
            };
            merged.Add(new(key, value));
        }
        merged.AddRange(Fields.Where(f => fallback[f.Key] is null));
        return new HoconObject(merged, Position);
    }

    private delegate bool Converter<T>(HoconValue value, out T result, out string problem);

    private T Get<T>(string path, Converter<T> convert)
    {
        var value = GetValue(path);
        return convert(value, out var result, out var problem) ? result : throw new HoconException(value.Position, $"{path}: {problem}");
    }
}
