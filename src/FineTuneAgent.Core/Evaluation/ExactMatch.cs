using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Exact match of short answers after SQuAD v1.1's <c>normalize_answer</c> (lowercase, punctuation removed,
/// the English articles a/an/the removed, whitespace collapsed), widened to CJK text: full-width ASCII forms
/// (U+FF01–U+FF5E, the ideographic space U+3000) become their ASCII characters first, and any Unicode
/// punctuation is removed (，。！ too). (string.Normalize would do NFKC, but leaves non-ASCII text untouched
/// under InvariantGlobalization, which this process runs with.)
/// </summary>
public static partial class ExactMatch
{
    /// <summary>A reference of at most this many ROUGE tokens (<see cref="TextSegmenter.Words"/>: words, or CJK characters) is a short answer.</summary>
    public const int ShortAnswerMaxTokens = 16;

    public static bool IsShortAnswer(string reference) => TextSegmenter.Words(reference).Count is > 0 and <= ShortAnswerMaxTokens;

    public static bool Matches(string prediction, string reference) => Normalize(prediction) == Normalize(reference);

    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var kept = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var half = HalfWidth(rune);
            if (!IsPunctuation(half))
                kept.Append(Rune.ToLowerInvariant(half).ToString());
        }
        var noArticles = Articles().Replace(kept.ToString(), " ");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    private static Rune HalfWidth(Rune rune) => rune.Value switch
    {
        >= 0xFF01 and <= 0xFF5E => new Rune(rune.Value - 0xFEE0),
        0x3000 => new Rune(' '),
        _ => rune,
    };

    private static bool IsPunctuation(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation
        // string.punctuation, which SQuAD strips, also holds these ASCII symbols.
        || rune.Value is '$' or '+' or '<' or '=' or '>' or '^' or '`' or '|' or '~';

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();
}
