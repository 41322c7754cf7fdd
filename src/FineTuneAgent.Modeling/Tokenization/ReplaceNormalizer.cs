namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Replace</c> normalizer: replaces every match of a pattern (Llama 2: ' ' by '▁').</summary>
internal sealed class ReplaceNormalizer(TextPattern pattern, string content) : INormalizer
{
    public ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text) => pattern.Replace(text.Span, content).AsMemory();
}
