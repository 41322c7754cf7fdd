using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Torch;

/// <summary>
/// A sharded checkpoint's <c>model.safetensors.index.json</c>: which shard file holds each
/// tensor, and the total tensor bytes. Written exactly as transformers writes it
/// (json.dumps(indent=2, sort_keys=True) plus a newline) so the two tools' output can be diffed.
/// </summary>
public sealed class SafetensorsIndex
{
    public SafetensorsIndex(long? totalSize, IReadOnlyDictionary<string, string> weightMap, IReadOnlyDictionary<string, string>? metadata = null)
    {
        TotalSize = totalSize;
        WeightMap = weightMap;
        Metadata = metadata ?? (totalSize is { } t
            ? new Dictionary<string, string> { ["total_size"] = t.ToString(CultureInfo.InvariantCulture) }
            : new Dictionary<string, string>());
    }

    /// <summary>metadata.total_size: the sum of tensor byte sizes (not file sizes), when present.</summary>
    public long? TotalSize { get; }

    /// <summary>Tensor name → shard file name, relative to the index's folder.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>Every "metadata" entry, non-string values as their JSON text (some writers add total_parameters).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsIndex Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException(path, null, "index must be a JSON object with a weight_map");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            long? totalSize = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in meta.EnumerateObject())
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                if (meta.TryGetProperty("total_size", out var size))
                    totalSize = size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var s) && s >= 0
                        ? s
                        : throw new SafetensorsException(path, null, $"metadata.total_size must be a non-negative integer, found {size.GetRawText()}");
            }
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException(path, null, "index has no weight_map object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsException(path, p.Name, $"weight_map value must be a shard file name, found {p.Value.GetRawText()}");
                if (!weightMap.TryAdd(p.Name, p.Value.GetString()!))
                    throw new SafetensorsException(path, p.Name, "weight_map lists the tensor twice");
            }
            return new SafetensorsIndex(totalSize, weightMap, metadata);
        }
        catch (JsonException e)
        {
            throw new SafetensorsException(path, null, $"index is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// The index as transformers writes it: indent 2, keys sorted, ensure_ascii, trailing
    /// newline. Its metadata is total_size alone; other entries read from a file are not kept.
    /// </summary>
    public string ToJson()
    {
        var sb = new StringBuilder("{\n  \"metadata\": ");
        var metadata = new Dictionary<string, string>();
        if (TotalSize is { } total)
            metadata["total_size"] = total.ToString(CultureInfo.InvariantCulture);
        AppendObject(sb, metadata, (b, _, value) => b.Append(value));
        sb.Append(",\n  \"weight_map\": ");
        AppendObject(sb, WeightMap, (b, _, value) => b.AppendPythonString(value));
        return sb.Append("\n}\n").ToString();
    }

    public void Write(string path) => AtomicFile.Write(path, s => s.Write(Encoding.ASCII.GetBytes(ToJson())));

    private static void AppendObject(StringBuilder sb, IReadOnlyDictionary<string, string> map, Action<StringBuilder, string, string> value)
    {
        if (map.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        sb.Append('{');
        var first = true;
        foreach (var key in map.Keys.Order(CodePointComparer.Instance))
        {
            sb.Append(first ? "\n    " : ",\n    ").AppendPythonString(key).Append(": ");
            value(sb, key, map[key]);
            first = false;
        }
        sb.Append("\n  }");
    }
}
