using FineTuneAgent.Modeling.Quantization;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Properties of create_dynamic_map(signed=True) that follow from its definition (FACTS §5.3).</summary>
public class DynamicMapTests
{
    private static readonly float[] Map = DynamicMap.Create(signed: true);

    [Fact]
    public void Create_Signed_Has256ValuesSorted()
    {
        Assert.Equal(256, Map.Length);
        for (var k = 0; k + 1 < Map.Length; k++)
            Assert.True(Map[k] <= Map[k + 1], $"not sorted at {k}");
    }

    [Fact]
    public void Create_Signed_HoldsOneZeroAndOneButNotMinusOne()
    {
        // 2·(1+2+…+64) = 254 signed means, then 0 and 1.0: no padding, so exactly one zero.
        Assert.Equal(1, Map.Count(v => v == 0f));
        Assert.Equal(1f, Map[^1]);
        Assert.DoesNotContain(-1f, Map);
        Assert.Equal(128, Map.Count(v => v > 0));
        Assert.Equal(127, Map.Count(v => v < 0));
    }

    [Fact]
    public void Create_Signed_DecadeIHoldsTwoToTheIPositiveValues()
    {
        // Exponent i scales the 2^i midpoints of linspace(0.1, 1, 2^i + 1), all in (0.1, 1), by 10^(i-6).
        for (var i = 0; i < 7; i++)
        {
            double lo = 0.1 * Math.Pow(10, i - 6), hi = Math.Pow(10, i - 6);
            Assert.Equal(1 << i, Map.Count(v => v > lo && v < hi));
        }
        Assert.Equal(0.55e-6, Map.Where(v => v > 0).Min(), 1e-12);
        // The largest mean of exponent 6: the midpoint of the last two of 65 points in [0.1, 1].
        Assert.Equal((1.0 + (1.0 - 0.9 / 64)) / 2, Map[^2], 1e-6);
    }

    [Fact]
    public void Create_Signed_IsSymmetricExceptForOne()
    {
        var positives = Map.Where(v => v > 0 && v < 1).OrderBy(v => v).ToArray();
        var negatives = Map.Where(v => v < 0).Select(v => -v).OrderBy(v => v).ToArray();
        Assert.Equal(positives, negatives);
    }

    [Fact]
    public void Create_Unsigned_Has256NonNegativeValues()
    {
        var map = DynamicMap.Create(signed: false);
        Assert.Equal(256, map.Length);
        Assert.All(map, v => Assert.True(v >= 0));
        Assert.Equal(1f, map[^1]);
    }
}
