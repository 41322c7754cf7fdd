namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>Sequence</c> normalizer: applies its normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text)
    {
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }
        return text;
    }
}
