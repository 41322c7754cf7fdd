namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The <c>NFC</c> and <c>NFD</c> normalizers (canonical forms; NFKC/NFKD are not supported).</summary>
internal sealed class UnicodeNormalizer(bool compose) : INormalizer
{
    public ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text) => UnicodeNormalization.Normalize(text, compose);
}
