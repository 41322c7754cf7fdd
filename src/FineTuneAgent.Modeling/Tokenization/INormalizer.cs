namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>A tokenizer.json <c>normalizer</c>: rewrites a piece of text before pre-tokenization.</summary>
internal interface INormalizer
{
    /// <summary>The normalized text; may be the input itself when nothing changes.</summary>
    ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text);
}
