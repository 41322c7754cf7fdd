namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Sequence</c> decoder: applies its decoders in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> decoders) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens)
    {
        foreach (var decoder in decoders)
        {
            tokens = decoder.DecodeChain(tokens);
        }
        return tokens;
    }
}
