using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// What the dataset pipeline should build, with LLaMA-Factory's names in the comments. Every field is
/// part of the cache key.
/// </summary>
public sealed record DatasetRequest(IReadOnlyList<DatasetSource> Sources)
{
    /// <summary>cutoff_len: the longest example (and packed row) in tokens.</summary>
    public int CutoffLength { get; init; } = 1024;

    public OverlengthPolicy Overlength { get; init; } = OverlengthPolicy.Drop;

    /// <summary>Skip rows that cannot be read (counted and listed in the summary) instead of failing on the first.</summary>
    public bool SkipBadRows { get; init; }

    public bool Deduplicate { get; init; } = true;

    /// <summary>packing: concatenate short examples into rows of cutoff_len (see <see cref="SequencePacker"/>).</summary>
    public bool Packing { get; init; }

    /// <summary>val_size: a fraction in (0, 1), a count ≥ 1, or 0 for no validation set.</summary>
    public double ValSize { get; init; }

    /// <summary>seed for mixing and the split.</summary>
    public long Seed { get; init; } = 42;

    public ChatLossScope LossScope { get; init; } = ChatLossScope.AllAssistantTurns;

    /// <summary>Qwen3's enable_thinking (see <see cref="ChatRenderOptions.EnableThinking"/>).</summary>
    public bool EnableThinking { get; init; } = true;

    /// <summary>Where tokenized datasets are cached; null disables the cache.</summary>
    public string? CacheDirectory { get; init; }

    public static DatasetRequest For(params DatasetDescription[] descriptions) =>
        new(descriptions.Select(d => new DatasetSource(d)).ToArray());
}
