namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Unicode canonical normalization for callers outside the tokenizer (the dataset cleaner).
/// <c>string.Normalize</c> leaves non-ASCII text untouched under InvariantGlobalization, so this
/// goes through our own tables.
/// </summary>
public static class UnicodeText
{
    /// <summary>The NFC form of <paramref name="text"/> (the same instance when already NFC).</summary>
    public static string Nfc(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return UnicodeNormalization.Nfc(text);
    }
}
