using System.Text;
using System.Text.RegularExpressions;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// The text a duplicate check compares: every message's role, reasoning, content and tool calls, and the
/// tools, joined with control separators. The normalized key normalizes each text part: Unicode NFC,
/// each whitespace run collapsed to one space and the ends trimmed, and case folding (invariant upper-
/// then lower-casing, so e.g. final sigma and long s fold like their ordinary forms; full folding such as
/// ß → ss is not done).
/// </summary>
internal static partial class ConversationKey
{
    public static string Exact(Conversation c) => Key(c, static s => s);

    public static string Normalized(Conversation c) => Key(c, Normalize);

    public static string Normalize(string text)
    {
        var collapsed = Whitespace().Replace(UnicodeText.Nfc(text), " ").Trim(' ');
        return collapsed.ToUpperInvariant().ToLowerInvariant();
    }

    private static string Key(Conversation c, Func<string, string> part)
    {
        var sb = new StringBuilder();
        foreach (var m in c.Messages)
        {
            sb.Append(m.Role).Append('\u001f').Append(part(m.ReasoningContent ?? "")).Append('\u001f').Append(part(m.Content));
            foreach (var call in m.ToolCalls)
                sb.Append('\u001f').Append(call.Name).Append('\u001f').Append(call.Arguments.GetRawText());
            sb.Append('\u001e');
        }
        foreach (var tool in c.Tools)
            sb.Append(tool.GetRawText()).Append('\u001d');
        return sb.ToString();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
