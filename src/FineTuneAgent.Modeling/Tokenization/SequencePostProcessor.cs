namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Sequence</c> post-processor: applies its processors in order.</summary>
internal sealed class SequencePostProcessor(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public void Process(List<int> ids, bool addSpecialTokens)
    {
        foreach (var processor in processors)
        {
            processor.Process(ids, addSpecialTokens);
        }
    }
}
