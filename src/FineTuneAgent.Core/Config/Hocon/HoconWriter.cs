using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Writes a JSON tree as HOCON that reads back to the same tree: root braces omitted, objects as
/// <c>key { ... }</c>, keys unquoted where the spec allows, strings always quoted (so "true" or
/// "10" stay strings), arrays on one line.
/// </summary>
public static class HoconWriter
{
    public static string Write(JsonObject root)
    {
        var sb = new StringBuilder();
        WriteFields(sb, root, indent: 0);
        return sb.ToString();
    }

    private static void WriteFields(StringBuilder sb, JsonObject o, int indent)
    {
        foreach (var (key, value) in o)
        {
            sb.Append(' ', indent).Append(HoconPath.Render([key]));
            if (value is JsonObject child)
            {
                sb.Append(" {\n");
                WriteFields(sb, child, indent + 2);
                sb.Append(' ', indent).Append("}\n");
            }
            else
            {
                sb.Append(" = ").Append(Value(value)).Append('\n');
            }
        }
    }

    private static string Value(JsonNode? value) => value switch
    {
        null => "null",
        JsonArray a => "[" + string.Join(", ", a.Select(Value)) + "]",
        JsonObject o => "{ " + string.Join(", ", o.Select(f => $"{HoconPath.Render([f.Key])} = {Value(f.Value)}")) + " }",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => HoconStrings.Quote(v.GetValue<string>()),
        _ => value.ToJsonString(),
    };
}
