namespace FineTuneAgent.Modeling.Chat;

/// <summary>Token ids of a rendered conversation and, per id, whether training computes loss on it.</summary>
public sealed record ChatTokens(int[] InputIds, bool[] LossMask)
{
    /// <summary>HF-style labels: the id where the mask is set, <paramref name="ignoreIndex"/> elsewhere.</summary>
    public int[] Labels(int ignoreIndex = -100)
    {
        var labels = new int[InputIds.Length];
        for (var i = 0; i < labels.Length; i++)
            labels[i] = LossMask[i] ? InputIds[i] : ignoreIndex;
        return labels;
    }
}
