namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// One conversation as token ids and HF-style labels (the id where training computes loss,
/// <see cref="IgnoreIndex"/> elsewhere), with the index of the dataset it came from.
/// </summary>
public sealed record TokenizedExample(int[] InputIds, int[] Labels, int Source)
{
    public const int IgnoreIndex = -100;

    public int Length => InputIds.Length;

    /// <summary>The conversation it was rendered from (in memory only; the dataset cache does not keep it).</summary>
    public Modeling.Chat.Conversation? Conversation { get; init; }
}
