using System.Globalization;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;

namespace FineTuneAgent.Core.Tests.Recommendation;

/// <summary>
/// The reference shapes against the parameter counts their publishers state, and the recommender's choices
/// against the method plugins' own estimates: quality order, monotonic in memory, reasons carrying the numbers.
/// </summary>
public class RecommenderTests
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    private static Recommender Recommender => new(s_host.Value.Method);

    [Theory]
    // Qwen3: FACTS.md's derived counts from the config.json files; Llama: the counts Meta's model cards and HF report.
    [InlineData("qwen3", "0.6B", 596_049_920L)]
    [InlineData("qwen3", "1.7B", 1_720_574_976L)]
    [InlineData("qwen3", "4B", 4_022_468_096L)]
    [InlineData("qwen3", "8B", 8_190_735_360L)]
    [InlineData("llama", "7B", 6_738_415_616L)]
    [InlineData("llama", "13B", 13_015_864_320L)]
    [InlineData("llama", "70B", 68_976_648_192L)]
    [InlineData("llama", "8B", 8_030_261_248L)]
    [InlineData("llama", "1B", 1_235_814_400L)]
    [InlineData("llama", "3B", 3_212_749_824L)]
    public void ReferenceShapes_HaveThePublishedParameterCounts(string arch, string size, long parameters)
    {
        Assert.Equal(parameters, ReferenceModels.Config(size, arch).ParameterCount());
    }

    [Fact]
    public void ReferenceShapes_UnknownSizeOrArchitecture_ListTheKnownOnes()
    {
        var size = Assert.Throws<ArgumentException>(() => ReferenceModels.Config("9B", "qwen3"));
        Assert.Contains("0.6B, 1.7B, 4B, 8B, 14B, 32B", size.Message, StringComparison.Ordinal);
        var arch = Assert.Throws<ArgumentException>(() => ReferenceModels.Config("7B", "mistral"));
        Assert.Contains("qwen3, llama", arch.Message, StringComparison.Ordinal);
        Assert.Equal(ReferenceModels.Config("0.6b", "qwen3").ParameterCount(), ReferenceModels.Config("0.6B", "Qwen3").ParameterCount());
    }

    [Fact]
    public void AmpleMemory_ChoosesFull_WithEveryOtherMethodAsAnAlternativeInQualityOrder()
    {
        var r = Recommender.Recommend(ReferenceModels.Config("1.7B", "qwen3"), "qwen3 1.7B", MemoryBudget.Gpu("big", 1_000_000_000_000));
        Assert.Equal("Full", r.Chosen!.Label);
        Assert.Equal(["Freeze", "DoRA", "LoRA", "QLoRA-8", "QLoRA-4"], r.Alternatives.Select(p => p.Label));
        Assert.Empty(r.DoesNotFit);
        Assert.False(r.Chosen.GradientCheckpointing);
    }

    [Fact]
    public void TooLittleMemory_ChoosesNothing_AndSaysWhatTheLeanestNeeds()
    {
        var r = Recommender.Recommend(ReferenceModels.Config("7B", "llama"), "llama 7B", MemoryBudget.Gpu("tiny", 2_000_000_000));
        Assert.Null(r.Chosen);
        Assert.Equal(6, r.DoesNotFit.Count);
        var leanest = r.DoesNotFit.MinBy(p => p.Estimate.TotalBytes)!;
        Assert.Equal("QLoRA-4", leanest.Label);
        Assert.True(leanest.GradientCheckpointing);
        Assert.Equal(1, leanest.MicroBatchSize);
        Assert.Contains(r.Reasons, s => s.StartsWith("Nothing fits", StringComparison.Ordinal) && s.Contains(Recommender.Gb(leanest.Estimate.TotalBytes), StringComparison.Ordinal));
    }

    [Fact]
    public void MoreMemory_NeverChoosesALowerQualityMethod_AndEveryVerdictMatchesTheEstimate()
    {
        var config = ReferenceModels.Config("7B", "llama");
        var order = Recommender.Candidates.Select(c => c.Label).ToList();
        var previous = int.MaxValue;
        for (var gb = 4; gb <= 120; gb += 4)
        {
            var budget = MemoryBudget.Gpu($"{gb} GB", gb * 1_000_000_000L);
            var r = Recommender.Recommend(config, "llama 7B", budget);
            foreach (var p in new[] { r.Chosen }.OfType<TrainingPlan>().Concat(r.Alternatives).Concat(r.DoesNotFit))
                Assert.Equal(p.Estimate.TotalBytes <= budget.UsableBytes, p.Fits);
            var rank = r.Chosen is null ? order.Count : order.IndexOf(r.Chosen.Label);
            Assert.True(rank <= previous, $"{gb} GB chose {r.Chosen?.Label} after a better method fitted in less");
            previous = rank;
            // Nothing better than the choice fits.
            Assert.All(r.DoesNotFit, p => Assert.False(p.Fits));
            if (r.Chosen is { } chosen)
                Assert.All(r.DoesNotFit.Where(p => order.IndexOf(p.Label) < order.IndexOf(chosen.Label)), p => Assert.True(p.Estimate.TotalBytes > budget.UsableBytes));
        }
        Assert.Equal(0, previous); // at 120 GB a 7B model trains in full
    }

    [Fact]
    public void SevenBillionOnAn80GbA100_IsFullOrFreeze_AndTheReasonCarriesTheNumbers()
    {
        var budget = MemoryBudget.Gpu("A100 80GB", 80_000_000_000);
        var r = Recommender.Recommend(ReferenceModels.Config("7B", "llama"), "llama 7B", budget, new Recommender.Request { SequenceLength = 1024 });
        var chosen = r.Chosen!;
        Assert.Contains(chosen.Label, new[] { "Full", "Freeze" });
        var because = Assert.Single(r.Reasons, s => s.StartsWith($"{chosen.Label} is the best-quality method that fits", StringComparison.Ordinal));
        Assert.Contains($"{Recommender.Gb(chosen.Estimate.TotalBytes)} of {Recommender.Gb(budget.UsableBytes)} usable", because, StringComparison.Ordinal);
        Assert.Contains($"weights {Recommender.Gb(chosen.Estimate.WeightBytes)}", because, StringComparison.Ordinal);
        Assert.Equal(16, chosen.MicroBatchSize * chosen.GradientAccumulationSteps);
        // The budget line: 80 GB less the CUDA overhead, less 10 %.
        var usable = (80_000_000_000 - MemoryBudget.CudaOverheadBytes) * 0.9;
        Assert.Equal((long)usable, budget.UsableBytes);
        Assert.Contains((usable / 1e9).ToString("F1", CultureInfo.InvariantCulture) + " GB", r.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointingIsChosen_OnlyWhenThePlanDoesNotFitWithoutIt()
    {
        var config = ReferenceModels.Config("0.6B", "qwen3");
        var r = Recommender.Recommend(config, "qwen3 0.6B", MemoryBudget.Gpu("8 GB", 8_000_000_000), new Recommender.Request { SequenceLength = 2048 });
        foreach (var p in new[] { r.Chosen }.OfType<TrainingPlan>().Concat(r.Alternatives).Where(p => p.GradientCheckpointing))
        {
            // Without checkpointing even micro-batch 1 would not fit.
            var method = s_host.Value.Method(p.Method);
            var plain = method.EstimateMemory(config, new Abstractions.Methods.TrainingShape { MicroBatchSize = 1, SequenceLength = 2048 },
                method.ParseSettings(p.Settings));
            Assert.True(plain.TotalBytes > r.Budget.UsableBytes, $"{p.Label} checkpointed though {plain.TotalBytes} fits");
        }
    }
}
