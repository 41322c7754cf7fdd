using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.History;

/// <summary>
/// One key whose value differs between two run configurations, by dotted path (<c>training.learning_rate</c>,
/// <c>datasets[0]</c>); a side that lacks the key has null. Values are compact JSON text.
/// </summary>
public sealed record ConfigDifference(string Key, string? A, string? B)
{
    private static readonly JsonSerializerOptions s_text = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Every leaf key whose value differs, in ordinal key order.</summary>
    public static IReadOnlyList<ConfigDifference> Between(JsonObject a, JsonObject b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var left = Leaves(a);
        var right = Leaves(b);
        return left.Keys.Union(right.Keys).Order(StringComparer.Ordinal)
            .Select(k => new ConfigDifference(k, left.GetValueOrDefault(k), right.GetValueOrDefault(k)))
            .Where(d => d.A != d.B)
            .ToList();
    }

    /// <summary>
    /// A configuration's leaves by dotted path, values as compact JSON (non-ASCII text as is). An empty object or
    /// array below the root is a leaf of its own, so "[]" against a missing key still shows.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Leaves(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o when o.Count > 0 || path.Length == 0:
                    foreach (var (key, value) in o)
                        Walk(value, path.Length == 0 ? key : $"{path}.{key}");
                    break;
                case JsonArray array when array.Count > 0:
                    for (var i = 0; i < array.Count; i++)
                        Walk(array[i], $"{path}[{i}]");
                    break;
                default:
                    leaves[path] = node?.ToJsonString(s_text) ?? "null";
                    break;
            }
        }
        Walk(root, "");
        return new SortedDictionary<string, string>(leaves, StringComparer.Ordinal);
    }
}
