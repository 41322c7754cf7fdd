namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>A tokenizer.json <c>pre_tokenizer</c>: splits (and may rewrite) a piece of text.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the pieces <paramref name="piece"/> becomes; empty pieces are never appended.</summary>
    void PreTokenize(PreToken piece, List<PreToken> output, EncodeScratch scratch);
}
