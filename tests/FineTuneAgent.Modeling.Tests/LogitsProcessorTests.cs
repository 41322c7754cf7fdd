using FineTuneAgent.Modeling.Generation;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Processors against HF's definitions, on hand-made score rows.</summary>
public class LogitsProcessorTests
{
    [Fact]
    public void RepetitionPenalty_DividesPositiveAndMultipliesNegativeScoresOfSeenTokens()
    {
        float[] s = [2f, -2f, 1f, 4f];
        LogitsProcessor.RepetitionPenalty(s, [0, 1, 1], 2.0);
        Assert.Equal([1f, -4f, 1f, 4f], s);
    }

    [Fact]
    public void TopK_KeepsTheKHighestAndTies()
    {
        float[] s = [1f, 5f, 3f, 3f, 0f];
        LogitsProcessor.TopK(s, 2);
        Assert.Equal([float.NegativeInfinity, 5f, 3f, 3f, float.NegativeInfinity], s);
    }

    [Fact]
    public void TopP_RemovesTheTailWhoseMassIsAtMostOneMinusP()
    {
        // probabilities 0.5, 0.25, 0.125, 0.125 (log-space scores).
        float[] s = [(float)Math.Log(0.5), (float)Math.Log(0.25), (float)Math.Log(0.125), (float)Math.Log(0.125)];
        LogitsProcessor.TopP(s, 0.7);
        // ascending cumulative: 0.125, 0.25, 0.5, 1.0 → the two 0.125s (≤ 0.3) go, 0.25 stays.
        Assert.True(float.IsNegativeInfinity(s[2]) && float.IsNegativeInfinity(s[3]));
        Assert.False(float.IsNegativeInfinity(s[1]));
        float[] one = [0f, 10f];
        LogitsProcessor.TopP(one, 0.01);
        Assert.False(float.IsNegativeInfinity(one[1]));   // the most likely token always stays
    }

    [Fact]
    public void Sample_FollowsTheDistribution()
    {
        var random = new Random(0);
        float[] s = [0f, (float)Math.Log(3)];   // 1:3
        var counts = new int[2];
        for (var i = 0; i < 20_000; i++)
            counts[LogitsProcessor.Sample(s, random)]++;
        Assert.InRange(counts[1] / 20_000.0, 0.74, 0.76);
    }
}
