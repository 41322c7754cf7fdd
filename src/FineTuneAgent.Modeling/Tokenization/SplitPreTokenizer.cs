namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>Split</c> pre-tokenizer: splits on a pattern. Qwen2/3 and Llama 3 split with their
/// tiktoken-style regex, behavior <c>Isolated</c> (matches and the text between them become pieces).
/// </summary>
internal sealed class SplitPreTokenizer(TextPattern pattern, SplitDelimiterBehavior behavior, bool invert) : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output, EncodeScratch scratch)
    {
        var matches = scratch.Matches;
        matches.Clear();
        pattern.FindMatches(piece.Text.Span, matches);
        var pieces = scratch.Pieces;
        pieces.Clear();
        TextSplitter.Split(piece.Text.Length, matches, behavior, invert, pieces);
        foreach (var (start, length) in pieces)
        {
            output.Add(new PreToken(piece.Text.Slice(start, length), piece.AtStart && start == 0));
        }
    }
}
