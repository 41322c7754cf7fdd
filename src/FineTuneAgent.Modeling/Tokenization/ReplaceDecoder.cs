namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Replace</c> decoder: replaces every match of a pattern in each token
/// (Llama 2: '▁' back to ' ').</summary>
internal sealed class ReplaceDecoder(TextPattern pattern, string content) : IDecoder
{
    public List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(t => pattern.Replace(t, content));
}
