namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>Metaspace</c> pre-tokenizer (SentencePiece style): spaces become the replacement
/// character ('▁'), which is prepended according to the prepend scheme, and with <c>split</c> the
/// text is cut before each replacement character.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme, bool split) : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output, EncodeScratch scratch)
    {
        var source = piece.Text.Span;
        var prepend = !(source.StartsWith(' ') || source.StartsWith(replacement))
            && (prependScheme == PrependScheme.Always || (prependScheme == PrependScheme.First && piece.AtStart));
        var memory = scratch.Arena.Allocate(source.Length + (prepend ? 1 : 0));
        var span = memory.Span;
        var k = 0;
        if (prepend)
        {
            span[k++] = replacement;
        }
        foreach (var c in source)
        {
            span[k++] = c == ' ' ? replacement : c;
        }
        if (!split)
        {
            output.Add(piece with { Text = memory });
            return;
        }
        var matches = scratch.Matches;
        matches.Clear();
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] == replacement)
            {
                matches.Add((i, 1));
            }
        }
        var pieces = scratch.Pieces;
        pieces.Clear();
        TextSplitter.Split(span.Length, matches, SplitDelimiterBehavior.MergedWithNext, invert: false, pieces);
        foreach (var (start, length) in pieces)
        {
            output.Add(new PreToken(memory.Slice(start, length), piece.AtStart && start == 0));
        }
    }
}
