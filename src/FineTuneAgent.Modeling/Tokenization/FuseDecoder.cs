namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Fuse</c> decoder: joins all tokens into one string.</summary>
internal sealed class FuseDecoder : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}
