using System.Buffers;
using System.Globalization;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Finds added tokens in text, as HF tokenizers' <c>AddedVocabulary</c> does: leftmost-longest
/// matches (an Aho-Corasick automaton there, a trie here), then per token: <c>single_word</c> drops
/// a match that touches a word character, <c>lstrip</c>/<c>rstrip</c> widen it over the whitespace
/// beside it. Tokens with <c>normalized=false</c> are matched on the raw text, the others on the
/// normalized text of what lies between.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<int, AddedToken> _byId = [];
    private readonly Dictionary<string, AddedToken> _byContent = new(StringComparer.Ordinal);
    private readonly Matcher _raw;
    private readonly Matcher _normalized;

    public AddedVocabulary(IEnumerable<AddedToken> tokens, Func<string, string>? normalize)
    {
        var raw = new List<(string, AddedToken)>();
        var normalized = new List<(string, AddedToken)>();
        foreach (var token in tokens)
        {
            _byId[token.Id] = token;
            _byContent[token.Content] = token;
            if (token.Content.Length == 0)
            {
                continue;
            }
            if (token.Normalized && normalize is not null)
            {
                normalized.Add((normalize(token.Content), token));
            }
            else if (token.Normalized)
            {
                normalized.Add((token.Content, token));
            }
            else
            {
                raw.Add((token.Content, token));
            }
        }
        _raw = new Matcher(raw);
        _normalized = new Matcher(normalized);
        Tokens = [.. _byId.Values.OrderBy(t => t.Id)];
    }

    /// <summary>All added tokens, by ascending id.</summary>
    public IReadOnlyList<AddedToken> Tokens { get; }

    public bool HasNormalizedTokens => !_normalized.IsEmpty;

    public AddedToken? ById(int id) => _byId.GetValueOrDefault(id);

    public AddedToken? ByContent(string content) => _byContent.GetValueOrDefault(content);

    /// <summary>Splits raw text on the added tokens matched before normalization.</summary>
    public void SplitRaw(ReadOnlySpan<char> text, List<Segment> segments) => _raw.Split(text, segments);

    /// <summary>Splits normalized text on the added tokens matched after normalization.</summary>
    public void SplitNormalized(ReadOnlySpan<char> text, List<Segment> segments) => _normalized.Split(text, segments);

    /// <summary>A piece of text: an added token when <see cref="TokenId"/> is not -1.</summary>
    internal readonly record struct Segment(int Start, int Length, int TokenId)
    {
        public bool IsToken => TokenId >= 0;
    }

    private sealed class Matcher
    {
        private readonly Node _root = new();
        private readonly SearchValues<char> _firstChars;

        public Matcher(List<(string Text, AddedToken Token)> patterns)
        {
            foreach (var (text, token) in patterns)
            {
                var node = _root;
                foreach (var c in text)
                {
                    node.Children ??= [];
                    if (!node.Children.TryGetValue(c, out var child))
                    {
                        child = new Node();
                        node.Children[c] = child;
                    }
                    node = child;
                }
                node.Token ??= token; // the first token with this text wins
            }
            IsEmpty = patterns.Count == 0;
            _firstChars = SearchValues.Create(patterns.Select(p => p.Text[0]).Distinct().ToArray());
        }

        public bool IsEmpty { get; }

        public void Split(ReadOnlySpan<char> text, List<Segment> segments)
        {
            var emitted = 0; // end of what has been emitted so far
            var searchFrom = 0;
            while (!IsEmpty && searchFrom < text.Length)
            {
                var offset = text[searchFrom..].IndexOfAny(_firstChars);
                if (offset < 0)
                {
                    break;
                }
                var start = searchFrom + offset;
                var (length, token) = LongestAt(text, start);
                if (token is null)
                {
                    searchFrom = start + 1;
                    continue;
                }
                var stop = start + length;
                searchFrom = stop;
                if (token.SingleWord && (EndsWithWordChar(text[..start]) || StartsWithWordChar(text[stop..])))
                {
                    continue;
                }
                if (token.LStrip)
                {
                    var newStart = start;
                    while (newStart > emitted && char.IsWhiteSpace(text[newStart - 1]))
                    {
                        newStart--;
                    }
                    start = newStart;
                }
                if (token.RStrip)
                {
                    while (stop < text.Length && char.IsWhiteSpace(text[stop]))
                    {
                        stop++;
                    }
                    searchFrom = stop;
                }
                if (emitted < start)
                {
                    segments.Add(new Segment(emitted, start - emitted, -1));
                }
                segments.Add(new Segment(start, stop - start, token.Id));
                emitted = stop;
            }
            if (emitted < text.Length)
            {
                segments.Add(new Segment(emitted, text.Length - emitted, -1));
            }
        }

        private (int Length, AddedToken? Token) LongestAt(ReadOnlySpan<char> text, int start)
        {
            var node = _root;
            var best = (0, (AddedToken?)null);
            for (var i = start; i < text.Length; i++)
            {
                if (node.Children is null || !node.Children.TryGetValue(text[i], out var next))
                {
                    break;
                }
                node = next;
                if (node.Token is not null)
                {
                    best = (i - start + 1, node.Token);
                }
            }
            return best;
        }

        private sealed class Node
        {
            public Dictionary<char, Node>? Children;
            public AddedToken? Token;
        }
    }

    // HF tokenizers tests these with the Rust regex crate's Unicode \w:
    // Alphabetic, marks, decimal digits, connector punctuation and the joiners.
    private static bool EndsWithWordChar(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        var end = text.Length - 1;
        var cp = char.IsLowSurrogate(text[end]) && end > 0 && char.IsHighSurrogate(text[end - 1])
            ? char.ConvertToUtf32(text[end - 1], text[end])
            : text[end];
        return IsWordChar(cp);
    }

    private static bool StartsWithWordChar(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        var cp = char.IsHighSurrogate(text[0]) && text.Length > 1 && char.IsLowSurrogate(text[1])
            ? char.ConvertToUtf32(text[0], text[1])
            : text[0];
        return IsWordChar(cp);
    }

    private static bool IsWordChar(int cp) => cp is 0x200C or 0x200D || CharUnicodeInfo.GetUnicodeCategory(cp) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
        or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
        or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
        or UnicodeCategory.ConnectorPunctuation;
}
