using System.Text;

namespace FineTuneAgent.Torch;

/// <summary>
/// JSON string literals written byte for byte as the reference tools write them, so files we
/// write match theirs exactly: serde_json (the safetensors header) and Python's json module
/// with its default ensure_ascii (the shard index).
/// </summary>
internal static class JsonText
{
    /// <summary>serde_json: escapes quote, backslash and control characters only; other text stays raw UTF-8.</summary>
    public static StringBuilder AppendSerdeString(this StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\' || c < 0x20)
                AppendEscape(sb, c);
            else
                sb.Append(c);
        }
        return sb.Append('"');
    }

    /// <summary>Python json.dumps(ensure_ascii=True): also escapes everything outside printable ASCII, as \uXXXX per UTF-16 unit.</summary>
    public static StringBuilder AppendPythonString(this StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\' || c < 0x20 || c > 0x7E)
                AppendEscape(sb, c);
            else
                sb.Append(c);
        }
        return sb.Append('"');
    }

    private static void AppendEscape(StringBuilder sb, char c)
    {
        switch (c)
        {
            case '"': sb.Append("\\\""); break;
            case '\\': sb.Append("\\\\"); break;
            case '\b': sb.Append("\\b"); break;
            case '\f': sb.Append("\\f"); break;
            case '\n': sb.Append("\\n"); break;
            case '\r': sb.Append("\\r"); break;
            case '\t': sb.Append("\\t"); break;
            // Both tools write lower-case hex digits.
            default: sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>UTF-8 that refuses lone surrogates, which neither Rust nor JSON readers accept.</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
