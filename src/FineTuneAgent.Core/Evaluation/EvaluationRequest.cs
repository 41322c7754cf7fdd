namespace FineTuneAgent.Core.Evaluation;

/// <summary>What <see cref="Evaluator"/> evaluates: a base model, optionally an adapter over it, on a held-out data file.</summary>
public sealed record EvaluationRequest
{
    /// <summary>The base model folder in Hugging Face layout.</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>What a method saved (a PEFT adapter, Freeze's tensors, a Full checkpoint); null evaluates the base alone.</summary>
    public string? AdapterDirectory { get; init; }

    /// <summary>Held-out rows (Alpaca or ShareGPT, JSON or JSON Lines).</summary>
    public required string DataFile { get; init; }

    /// <summary>Evaluate only the first rows (LLaMA-Factory's max_samples); null: all.</summary>
    public int? MaxSamples { get; init; }

    public int MaxNewTokens { get; init; } = 128;

    /// <summary>cutoff_len for the loss rows and the general texts.</summary>
    public int CutoffLength { get; init; } = 1024;

    /// <summary>Rows per forward pass in the loss evaluations.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>The template by name (default: the one handling config.json's model_type).</summary>
    public string? Template { get; init; }

    /// <summary>The forgetting check's texts; null: the bundled <see cref="GeneralTextSet"/>.</summary>
    public string? GeneralTextFile { get; init; }

    public void Validate()
    {
        if (MaxSamples is < 1)
            throw new ArgumentException($"max samples must be at least 1, got {MaxSamples}");
        if (MaxNewTokens < 1)
            throw new ArgumentException($"max new tokens must be at least 1, got {MaxNewTokens}");
        if (CutoffLength < 2)
            throw new ArgumentException($"cutoff length must be at least 2, got {CutoffLength}");
        if (BatchSize < 1)
            throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
    }
}
