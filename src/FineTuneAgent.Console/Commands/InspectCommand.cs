using System.Collections;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Export.Gguf;
using Spectre.Console;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta inspect FILE.gguf`: what a GGUF file holds, read and validated by our own reader (a truncated or corrupt
/// file is an error naming the offset): version, alignment, every metadata key (long arrays shortened to their
/// type, length and first items), and the tensors with their type, shape (PyTorch order) and bytes.
/// </summary>
public static class InspectCommand
{
    private const int ArrayPreview = 8;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A .gguf file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("inspect", "Show the metadata and tensors of a GGUF file (validated by our reader).") { file, json };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(json)));
        return command;
    }

    private static int Run(string path, bool json)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found", path);
        var gguf = GgufFile.Read(path);
        if (json)
        {
            var result = new JsonObject
            {
                ["path"] = Path.GetFullPath(path),
                ["version"] = gguf.Version,
                ["alignment"] = gguf.Alignment,
                ["bytes"] = gguf.FileLength,
                ["metadata"] = new JsonObject(gguf.MetadataInOrder.Select(kv => KeyValuePair.Create(kv.Key, Json(kv.Value)))),
                ["tensors"] = new JsonArray(gguf.Tensors.Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Name,
                    ["type"] = t.Type.ToString(),
                    ["shape"] = new JsonArray(t.TorchShape.Select(d => (JsonNode)d).ToArray()),
                    ["bytes"] = t.ByteSize,
                }).ToArray()),
            };
            System.Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var console = Terminal.Create();
        console.MarkupLineInterpolated($"{Path.GetFullPath(path)}: GGUF v{gguf.Version}, alignment {gguf.Alignment}, {gguf.FileLength:N0} bytes, {gguf.MetadataInOrder.Count} metadata keys, {gguf.Tensors.Count} tensors");
        var metadata = new Table().AddColumns("Key", "Type", "Value");
        foreach (var (key, value) in gguf.MetadataInOrder)
            metadata.AddRow(Markup.Escape(key), value.Type == GgufValueType.Array ? $"{value.ElementType}[{value.AsArray().Count}]" : value.Type.ToString(), Markup.Escape(Show(value)));
        console.Write(metadata);
        var tensors = new Table().AddColumns("Tensor", "Type", "Shape", "Bytes");
        foreach (var t in gguf.Tensors)
            tensors.AddRow(Markup.Escape(t.Name), t.Type.ToString(), $"[{string.Join(", ", t.TorchShape)}]", $"{t.ByteSize:N0}");
        console.Write(tensors);
        foreach (var group in gguf.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)))
            console.MarkupLineInterpolated($"{group.Key}: {group.Count()} tensors, {group.Sum(t => t.ByteSize):N0} bytes");
        return 0;
    }

    private static string Show(GgufValue value)
    {
        if (value.Type != GgufValueType.Array)
            return Scalar(value.Value);
        var items = value.AsArray();
        var shown = items.Cast<object>().Take(ArrayPreview).Select(Scalar);
        return $"[{string.Join(", ", shown)}{(items.Count > ArrayPreview ? ", …" : "")}]";
    }

    private static string Scalar(object? v) => v switch
    {
        string s => s.Length > 120 ? JsonSerializer.Serialize(s[..120]) + "…" : JsonSerializer.Serialize(s),
        GgufValue nested => Show(nested),
        IList list => $"[{list.Count} items]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v?.ToString() ?? "null",
    };

    private static JsonNode? Json(GgufValue value)
    {
        if (value.Type != GgufValueType.Array)
            return JsonScalar(value.Value);
        var items = value.AsArray();
        return new JsonObject
        {
            ["type"] = value.ElementType.ToString(),
            ["count"] = items.Count,
            ["first"] = new JsonArray(items.Cast<object>().Take(ArrayPreview).Select(i => i is GgufValue g ? Json(g) : JsonScalar(i)).ToArray()),
        };
    }

    private static JsonNode? JsonScalar(object? v) => v switch
    {
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        byte n => JsonValue.Create(n),
        sbyte n => JsonValue.Create(n),
        short n => JsonValue.Create(n),
        ushort n => JsonValue.Create(n),
        int n => JsonValue.Create(n),
        uint n => JsonValue.Create(n),
        long n => JsonValue.Create(n),
        ulong n => JsonValue.Create(n),
        float f => float.IsFinite(f) ? JsonValue.Create(f) : JsonValue.Create(f.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        GgufValue g => Json(g),
        IList list => JsonValue.Create($"[{list.Count} items]"),
        _ => v is null ? null : JsonValue.Create(v.ToString()),
    };
}
