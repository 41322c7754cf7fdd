namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>The settings of a tokenizer.json BPE model (its fields other than vocab and merges).</summary>
internal sealed record BpeOptions(
    string? UnkToken = null,
    string? ContinuingSubwordPrefix = null,
    string? EndOfWordSuffix = null,
    bool FuseUnk = false,
    bool ByteFallback = false,
    bool IgnoreMerges = false);
