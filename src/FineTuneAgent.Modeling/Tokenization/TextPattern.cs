using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A tokenizer.json <c>pattern</c>: <c>{"String": "..."}</c> (a literal) or <c>{"Regex": "..."}</c>,
/// as used by the Split pre-tokenizer and the Replace normalizer and decoder.
/// </summary>
internal sealed class TextPattern
{
    private readonly string? _literal;
    private readonly CodePointRegex? _regex;

    private TextPattern(string? literal, CodePointRegex? regex)
    {
        _literal = literal;
        _regex = regex;
    }

    public static TextPattern Literal(string text) => new(text, null);

    public static TextPattern Regex(string pattern) => new(null, new CodePointRegex(pattern));

    /// <summary>Appends the non-overlapping, non-empty matches in the text, leftmost first.</summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int Length)> matches)
    {
        if (_regex is not null)
        {
            _regex.FindMatches(text, matches);
            return;
        }
        var literal = _literal.AsSpan();
        if (literal.IsEmpty)
        {
            return;
        }
        var from = 0;
        while (from <= text.Length - literal.Length)
        {
            var i = text[from..].IndexOf(literal, StringComparison.Ordinal);
            if (i < 0)
            {
                break;
            }
            matches.Add((from + i, literal.Length));
            from += i + literal.Length;
        }
    }

    /// <summary>The text with every match replaced by <paramref name="content"/>.</summary>
    public string Replace(ReadOnlySpan<char> text, string content)
    {
        var matches = new List<(int Start, int Length)>();
        FindMatches(text, matches);
        if (matches.Count == 0)
        {
            return text.ToString();
        }
        var sb = new StringBuilder(text.Length + matches.Count * content.Length);
        var last = 0;
        foreach (var (start, length) in matches)
        {
            sb.Append(text[last..start]).Append(content);
            last = start + length;
        }
        return sb.Append(text[last..]).ToString();
    }
}
