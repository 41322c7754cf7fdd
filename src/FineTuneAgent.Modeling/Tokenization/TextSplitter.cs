namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// HF's <c>NormalizedString::split</c>: turns the matches of a pattern into pieces according to a
/// <see cref="SplitDelimiterBehavior"/>. Matches are (start, length), sorted and non-overlapping;
/// the text between them forms the non-matching pieces. Empty pieces are never produced.
/// </summary>
internal static class TextSplitter
{
    public static void Split(int textLength, List<(int Start, int Length)> matches, SplitDelimiterBehavior behavior,
        bool invert, List<(int Start, int Length)> pieces)
    {
        // The text as alternating (start, end, isMatch) spans covering all of it.
        Span<(int Start, int End, bool IsMatch)> spans = matches.Count * 2 + 1 <= 256
            ? stackalloc (int, int, bool)[matches.Count * 2 + 1]
            : new (int, int, bool)[matches.Count * 2 + 1];
        var n = 0;
        var previous = 0;
        foreach (var (start, length) in matches)
        {
            if (previous != start)
            {
                spans[n++] = (previous, start, invert);
            }
            spans[n++] = (start, start + length, !invert);
            previous = start + length;
        }
        if (previous != textLength)
        {
            spans[n++] = (previous, textLength, invert);
        }
        spans = spans[..n];

        switch (behavior)
        {
            case SplitDelimiterBehavior.Isolated:
                foreach (var s in spans)
                {
                    Add(pieces, s.Start, s.End);
                }
                break;
            case SplitDelimiterBehavior.Removed:
                foreach (var s in spans)
                {
                    if (!s.IsMatch)
                    {
                        Add(pieces, s.Start, s.End);
                    }
                }
                break;
            case SplitDelimiterBehavior.Contiguous:
            case SplitDelimiterBehavior.MergedWithPrevious:
            {
                var contiguous = behavior == SplitDelimiterBehavior.Contiguous;
                var previousMatch = false;
                int? openStart = null;
                var openEnd = 0;
                foreach (var s in spans)
                {
                    var join = contiguous ? s.IsMatch == previousMatch : s.IsMatch && !previousMatch;
                    if (join && openStart is not null)
                    {
                        openEnd = s.End;
                    }
                    else
                    {
                        if (openStart is { } os)
                        {
                            Add(pieces, os, openEnd);
                        }
                        openStart = s.Start;
                        openEnd = s.End;
                    }
                    previousMatch = s.IsMatch;
                }
                if (openStart is { } last)
                {
                    Add(pieces, last, openEnd);
                }
                break;
            }
            case SplitDelimiterBehavior.MergedWithNext:
            {
                var first = pieces.Count;
                var previousMatch = false;
                int? openEnd = null;
                var openStart = 0;
                for (var i = spans.Length - 1; i >= 0; i--)
                {
                    var s = spans[i];
                    if (s.IsMatch && !previousMatch && openEnd is not null)
                    {
                        openStart = s.Start;
                    }
                    else
                    {
                        if (openEnd is { } oe)
                        {
                            Add(pieces, openStart, oe);
                        }
                        openStart = s.Start;
                        openEnd = s.End;
                    }
                    previousMatch = s.IsMatch;
                }
                if (openEnd is { } lastEnd)
                {
                    Add(pieces, openStart, lastEnd);
                }
                pieces.Reverse(first, pieces.Count - first);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(behavior));
        }
    }

    private static void Add(List<(int Start, int Length)> pieces, int start, int end)
    {
        if (end > start)
        {
            pieces.Add((start, end - start));
        }
    }
}
