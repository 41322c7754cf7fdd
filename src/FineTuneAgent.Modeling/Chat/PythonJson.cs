using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// JSON as the <c>tojson</c> filter of HF chat templates writes it: Python's
/// <c>json.dumps(x, ensure_ascii=False, indent=indent)</c>. Separators are ", " and ": " (with an
/// indent, "," and ": "), keys keep their order, non-ASCII text stays as is. Numbers keep the spelling
/// they have in the input (Python would respell floats such as 1e5 as 100000.0).
/// </summary>
public static class PythonJson
{
    internal static string Dumps(JsonElement value, int? indent = null)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, 0);
        return sb.ToString();
    }

    /// <summary>A JSON string literal as Python writes it with ensure_ascii=False (also plain JSON's and HOCON's quoted form).</summary>
    public static string DumpsString(string value)
    {
        var sb = new StringBuilder();
        WriteString(sb, value);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonElement value, int? indent, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteContainer(sb, '{', '}', value.EnumerateObject().ToList(), indent, depth, (p, d) =>
                {
                    WriteString(sb, p.Name);
                    sb.Append(": ");
                    Write(sb, p.Value, indent, d);
                });
                break;
            case JsonValueKind.Array:
                WriteContainer(sb, '[', ']', value.EnumerateArray().ToList(), indent, depth, (e, d) => Write(sb, e, indent, d));
                break;
            case JsonValueKind.String:
                WriteString(sb, value.GetString()!);
                break;
            case JsonValueKind.Number:
                sb.Append(value.GetRawText());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new ArgumentException($"cannot serialise a JSON value of kind {value.ValueKind}", nameof(value));
        }
    }

    private static void WriteContainer<T>(StringBuilder sb, char open, char close, List<T> items, int? indent, int depth, Action<T, int> writeItem)
    {
        sb.Append(open);
        if (items.Count > 0)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0)
                    sb.Append(indent is null ? ", " : ",");
                if (indent is { } n)
                    sb.Append('\n').Append(' ', n * (depth + 1));
                writeItem(items[i], depth + 1);
            }
            if (indent is { } m)
                sb.Append('\n').Append(' ', m * depth);
        }
        sb.Append(close);
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
