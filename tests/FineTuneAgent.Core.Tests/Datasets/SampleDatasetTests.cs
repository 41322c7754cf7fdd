using System.Text.RegularExpressions;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>The bundled data/sample datasets (written by data/sample/generate.py) load cleanly and are right.</summary>
public sealed partial class SampleDatasetTests
{
    private static string Info => Path.Combine(RealTokenizers.RepoRoot, "data", "sample", "dataset_info.json");

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void Sample_AllDatasets_LoadWithNothingDroppedOrBad(string format)
    {
        var sources = DatasetInfoFile.Load(Info).Values.Select(d => new DatasetSource(d)).ToArray();
        var tokenizer = format == "qwen3" ? RealTokenizers.Qwen3 : RealTokenizers.Llama3;

        var result = DatasetPipeline.Prepare(new DatasetRequest(sources) { CutoffLength = 256, ValSize = 0.05 }, tokenizer, ChatFormats.Get(format), [], null);

        Assert.Equal(3, result.Summary.Sources.Count);
        Assert.All(result.Summary.Sources, s =>
        {
            Assert.Equal(0, s.BadRows);
            Assert.Empty(s.Dropped);
            Assert.Equal(s.Rows, s.Kept);
        });
        var rows = result.Summary.Sources.Sum(s => s.Rows);
        Assert.InRange(rows, 200, 600);
        Assert.Equal(rows, result.Train.Count + result.Validation.Count);
        Assert.Empty(result.Summary.Warnings);
    }

    [Fact]
    public void Sample_ArithmeticAnswers_AreCorrect()
    {
        var checkedCount = 0;
        foreach (var d in DatasetInfoFile.Load(Info).Values)
            foreach (var e in DatasetReader.Read(d).Examples)
                foreach (var m in e.Conversation.Messages.Where(m => m.Role == ChatRoles.Assistant))
                {
                    var en = EnglishSum().Match(m.Content);
                    if (en.Success)
                    {
                        var (a, b, c) = (int.Parse(en.Groups[1].Value), int.Parse(en.Groups[3].Value), int.Parse(en.Groups[4].Value));
                        Assert.Equal(c, en.Groups[2].Value switch { "+" => a + b, "×" => a * b, "−" => a - b, _ => throw new InvalidOperationException(m.Content) });
                        checkedCount++;
                    }
                    var zh = ChineseSum().Match(m.Content);
                    if (zh.Success)
                    {
                        var (a, b, c) = (int.Parse(zh.Groups[1].Value), int.Parse(zh.Groups[3].Value), int.Parse(zh.Groups[4].Value));
                        Assert.Equal(c, zh.Groups[2].Value == "加" ? a + b : a * b);
                        checkedCount++;
                    }
                }
        Assert.True(checkedCount >= 80, $"only {checkedCount} arithmetic answers found");
    }

    [GeneratedRegex(@"^(\d+) ([+×−]) (\d+) = (\d+)\.$")]
    private static partial Regex EnglishSum();

    [GeneratedRegex(@"^(\d+)(加|乘以)(\d+)等于(\d+)。$")]
    private static partial Regex ChineseSum();
}
