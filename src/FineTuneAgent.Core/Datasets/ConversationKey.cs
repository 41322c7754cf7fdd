using System.Text;
using System.Text.RegularExpressions;
using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// The text a duplicate check compares: every message's role, reasoning, content and tool calls, and the
/// tools. The normalized key applies Unicode NFC, collapses each whitespace run to one space (trimming
/// the ends), and case-folds (upper- then lower-casing, invariant, so e.g. final sigma and long s fold
/// like their ordinary forms; full folding such as ß → ss is not done).
/// </summary>
internal static partial class ConversationKey
{
    public static string Exact(Conversation c)
    {
        var sb = new StringBuilder();
        foreach (var m in c.Messages)
        {
            sb.Append(m.Role).Append('\u001f').Append(m.ReasoningContent ?? "").Append('\u001f').Append(m.Content);
            foreach (var call in m.ToolCalls)
                sb.Append('\u001f').Append(call.Name).Append('\u001f').Append(call.Arguments.GetRawText());
            sb.Append('\u001e');
        }
        foreach (var tool in c.Tools)
            sb.Append(tool.GetRawText()).Append('\u001d');
        return sb.ToString();
    }

    public static string Normalized(Conversation c) => Normalize(Exact(c));

    public static string Normalize(string text)
    {
        var nfc = UnicodeText.Nfc(text);
        var collapsed = Whitespace().Replace(nfc, " ");
        return collapsed.ToUpperInvariant().ToLowerInvariant();
    }

    // Whitespace, but not the separators Exact puts between parts (U+001D..U+001F are not \s).
    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
