using System.Text.Json.Nodes;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// The methods benchmark runs each method through the plugin host; here one variant on the tiny
/// model for one step, to know the command works. It measures nothing: timings belong to the
/// benchmark run itself.
/// </summary>
public sealed class MethodsBenchCommandTests
{
    [Theory]
    [InlineData("QLoRA-4", "qlora")]
    [InlineData("Freeze", "freeze")]
    public void BenchMethods_OneVariant_ReportsItsMethodTrainableCountAndMemory(string label, string method)
    {
        var (code, stdout, stderr) = Fta.Run("bench", "methods", "--only", label, "--size", "tiny", "--seq-len", "8", "--steps", "1");
        Assert.True(code == 0, stderr);
        var result = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(method, (string?)result["method"]);
        var trainable = (long)result["trainable"]!;
        Assert.InRange(trainable, 1, (long)result["parameters"]! / 2);
        Assert.True((double)result["peak_rss_mib"]! >= (double)result["baseline_rss_mib"]!);
        Assert.True((double)result["estimate_mib"]! > 0);
    }

    [Fact]
    public void BenchMethods_UnknownVariant_IsAnErrorListingTheVariants()
    {
        var (code, _, stderr) = Fta.Run("bench", "methods", "--only", "LoRA-3", "--size", "tiny");
        Assert.NotEqual(0, code);
        Assert.Contains("QLoRA-4", stderr);
    }
}
