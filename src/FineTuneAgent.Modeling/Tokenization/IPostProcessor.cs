namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>A tokenizer.json <c>post_processor</c>: adds special tokens around an encoded text.</summary>
internal interface IPostProcessor
{
    /// <summary>Rewrites <paramref name="ids"/> in place; does nothing unless <paramref name="addSpecialTokens"/>.</summary>
    void Process(List<int> ids, bool addSpecialTokens);
}
