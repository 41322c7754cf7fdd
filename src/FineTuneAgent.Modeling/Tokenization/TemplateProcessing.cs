namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>TemplateProcessing</c> post-processor for a single sequence: its <c>single</c> template
/// lists special tokens and the sequence <c>$A</c>, e.g. Llama's <c>&lt;s&gt; $A</c>. Special tokens
/// are added only when the caller asks for them. (Pairs of sequences are not supported.)
/// </summary>
internal sealed class TemplateProcessing : IPostProcessor
{
    private readonly int[] _before;
    private readonly int[] _after;

    /// <param name="single">The template: each item is the ids of a special token, or null for $A.</param>
    public TemplateProcessing(IReadOnlyList<int[]?> single)
    {
        var before = new List<int>();
        var after = new List<int>();
        var seenSequence = false;
        foreach (var item in single)
        {
            if (item is null)
            {
                seenSequence = true;
            }
            else
            {
                (seenSequence ? after : before).AddRange(item);
            }
        }
        _before = [.. before];
        _after = [.. after];
    }

    /// <summary>Ids the template puts before the text.</summary>
    public IReadOnlyList<int> Before => _before;

    /// <summary>Ids the template puts after the text.</summary>
    public IReadOnlyList<int> After => _after;

    public void Process(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens)
        {
            return;
        }
        ids.InsertRange(0, _before);
        ids.AddRange(_after);
    }
}
