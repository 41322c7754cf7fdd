namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Prepend</c> normalizer: puts a string in front of any non-empty text
/// (Llama 2 prepends '▁', SentencePiece's space).</summary>
internal sealed class PrependNormalizer(string prepend) : INormalizer
{
    public ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text) =>
        text.IsEmpty ? text : string.Concat(prepend.AsSpan(), text.Span).AsMemory();
}
