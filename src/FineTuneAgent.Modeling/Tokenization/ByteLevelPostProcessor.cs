namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>ByteLevel</c> post-processor. It only trims offsets, which we do not track, so
/// it leaves the ids alone.</summary>
internal sealed class ByteLevelPostProcessor : IPostProcessor
{
    public void Process(List<int> ids, bool addSpecialTokens)
    {
    }
}
