namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Sequence</c> pre-tokenizer: each stage runs on every piece the previous one made.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> stages) : IPreTokenizer
{
    public void PreTokenize(PreToken piece, List<PreToken> output, EncodeScratch scratch)
    {
        if (stages.Count == 0)
        {
            output.Add(piece);
            return;
        }
        var current = scratch.RentList();
        current.Add(piece);
        for (var s = 0; s < stages.Count; s++)
        {
            var next = s == stages.Count - 1 ? output : scratch.RentList();
            foreach (var p in current)
            {
                stages[s].PreTokenize(p, next, scratch);
            }
            scratch.ReturnList(current);
            if (next == output)
            {
                return;
            }
            current = next;
        }
    }
}
