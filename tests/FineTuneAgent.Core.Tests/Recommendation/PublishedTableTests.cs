using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using Xunit.Abstractions;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Recommendation;

/// <summary>
/// The method plugins' estimates against the table this project starts from: LLaMA-Factory's README,
/// "Hardware Requirement" (the 7B/13B/30B/70B columns of its 2024 version: Freeze 20/40/80/200 GB,
/// LoRA 16/32/64/160, QLoRA-8 10/20/40/80, QLoRA-4 6/12/24/48; the README marks them "estimated").
/// </summary>
/// <remarks>
/// What the table assumes, as far as it says: 16-bit (bf16/fp16) weights for Freeze and LoRA, a
/// bitsandbytes 8/4-bit base for QLoRA, one GPU; it states no batch or sequence length. Its later
/// version gives the rules behind the numbers: LoRA "2x GB", QLoRA-8 "x GB", QLoRA-4 "x/2 GB" for an
/// x-billion model, i.e. the weights with a margin rounded up, which covers LLaMA-Factory's defaults
/// (micro-batch 1 to 2, cutoff 1024, gradient checkpointing on). So the shape here is that: bf16
/// weights and activations, micro-batch 1, 1024 tokens, gradient checkpointing, rank 16 on every
/// projection, Freeze training the last 2 layers (both projects' default).
///
/// Where ours differ, and why:
/// - Ours is the peak of one training step without a framework overhead (no CUDA context, no
///   allocator fragmentation), so it sits below the table, by more where the table's margin is
///   a fixed share (QLoRA-4 "x/2" is the 4-bit weights alone; 7B at 6 GB allows 2.5 GB over them).
/// - Freeze: the table's 20 GB for 7B is 4 GB over LoRA's, that is LLaMA-Factory's fp32 upcast of
///   the trainable layers with fp32 AdamW states; ours keeps them in the weight dtype (bf16), so
///   Freeze comes out close to LoRA.
/// - 70B: the table's LoRA 160 GB is "2x" (140 GB of bf16 weights plus margin) and QLoRA-8 80 GB
///   is "x"; the issue that quotes it swaps them (LoRA 80, QLoRA-8 160), which cannot be: an 8-bit
///   base cannot need twice a 16-bit one. We compare with the README's order. Its Freeze 200 GB is
///   the one 70B entry with a margin far above the rule (2.86x), so Freeze 70B is only bounded.
/// </remarks>
public sealed class PublishedTableTests(ITestOutputHelper output)
{
    private static readonly Lazy<PluginHost> s_host = new(() => PluginHost.Load(Path.Combine(AppContext.BaseDirectory, "plugins")));

    private static readonly TrainingShape Shape = new()
    {
        MicroBatchSize = 1,
        SequenceLength = 1024,
        WeightDtype = ScalarType.BFloat16,
        ComputeDtype = ScalarType.BFloat16,
        GradientCheckpointing = true,
    };

    private static double EstimateGib(string size, string label)
    {
        var (_, method, settings) = Recommender.Candidates.Single(c => c.Label == label);
        var m = s_host.Value.Method(method);
        var estimate = m.EstimateMemory(ReferenceModels.Config(size, "llama"), Shape, m.ParseSettings(JsonNode.Parse(settings)!.AsObject()));
        return estimate.TotalBytes / (1024.0 * 1024 * 1024);
    }

    /// <summary>
    /// Where the table is consistent (every LoRA/QLoRA entry, Freeze up to 30B), ours is between 65 %
    /// and 105 % of it: the table is a requirement with headroom, ours a peak without framework
    /// overhead (measured at 69–99 % when this test was written: LoRA 83–99 %, QLoRA 70–87 %, Freeze
    /// 70–84 %; Freeze 70B at 69 % against the table's out-of-rule 200 GB).
    /// </summary>
    [Theory]
    [InlineData("7B", 20, 16, 10, 6)]
    [InlineData("13B", 40, 32, 20, 12)]
    [InlineData("30B", 80, 64, 40, 24)]
    [InlineData("70B", 200, 160, 80, 48)]
    public void Estimates_AgreeWithLlamaFactorysTable(string size, double freeze, double lora, double qlora8, double qlora4)
    {
        foreach (var (label, table) in new[] { ("Freeze", freeze), ("LoRA", lora), ("QLoRA-8", qlora8), ("QLoRA-4", qlora4) })
        {
            var ours = EstimateGib(size, label);
            output.WriteLine($"{size} {label}: table {table} GB, ours {ours:F1} GiB ({ours / table:P0})");
            Assert.InRange(ours / table, 0.65, 1.05);
        }
    }

    /// <summary>
    /// The order the table keeps at every size, and the 70B row as issue 7 quotes it (LoRA 80 GB,
    /// QLoRA-8 160 GB) refuted: with a 16-bit base LoRA needs about 1.9x QLoRA-8's memory, as the
    /// README's own 160/80 says.
    /// </summary>
    [Theory]
    [InlineData("7B")]
    [InlineData("13B")]
    [InlineData("30B")]
    [InlineData("70B")]
    public void Estimates_KeepTheTablesOrder_AndLoraNeedsAboutTwiceQloraEight(string size)
    {
        var (freeze, lora, qlora8, qlora4) = (EstimateGib(size, "Freeze"), EstimateGib(size, "LoRA"), EstimateGib(size, "QLoRA-8"), EstimateGib(size, "QLoRA-4"));
        Assert.True(freeze > lora && lora > qlora8 && qlora8 > qlora4, $"{size}: Freeze {freeze:F1}, LoRA {lora:F1}, QLoRA-8 {qlora8:F1}, QLoRA-4 {qlora4:F1} GiB");
        // The README's ratio is 1.6 (7B) to 2.0 (70B); the quoted 70B row's 0.5 is outside any of them.
        Assert.InRange(lora / qlora8, 1.6, 2.0);
    }
}
