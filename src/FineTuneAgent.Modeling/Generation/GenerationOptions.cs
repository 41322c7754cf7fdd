namespace FineTuneAgent.Modeling.Generation;

/// <summary>
/// How to continue a prompt, with HF generate()'s meanings: greedy unless DoSample; TopK 0 and
/// TopP 1 disable those filters; RepetitionPenalty 1 disables it.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 128;
    public bool DoSample { get; init; }
    public double Temperature { get; init; } = 1.0;
    public int TopK { get; init; }
    public double TopP { get; init; } = 1.0;
    public double RepetitionPenalty { get; init; } = 1.0;
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public int Seed { get; init; }

    /// <summary>Reuse keys and values of earlier positions (off: recompute the whole sequence each step).</summary>
    public bool UseCache { get; init; } = true;

    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "max new tokens must not be negative");
        if (DoSample && Temperature <= 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be positive when sampling");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must not be negative");
        if (TopP is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1]");
        if (RepetitionPenalty <= 0) throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "repetition penalty must be positive");
    }
}

public enum FinishReason
{
    Length,
    EndOfSequence,
    StopString,
}

/// <summary>One prompt's continuation: the new ids (ending with the EOS id when it stopped there).</summary>
public sealed record GenerationResult(IReadOnlyList<int> NewTokens, FinishReason FinishReason);
