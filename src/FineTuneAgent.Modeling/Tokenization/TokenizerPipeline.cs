namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The components a tokenizer.json describes, in the order encoding uses them.</summary>
internal sealed record TokenizerPipeline(
    BpeModel Model,
    INormalizer? Normalizer,
    IPreTokenizer? PreTokenizer,
    IPostProcessor? PostProcessor,
    IDecoder? Decoder,
    IReadOnlyList<AddedToken> AddedTokens);
