using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

public sealed class CleaningTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static PreparedDataset Prepare(DatasetRequest request) =>
        DatasetPipeline.Prepare(request, RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null);

    [Fact]
    public void Clean_CountsEachReasonWithFirstLines()
    {
        var path = _files.Lines("c.jsonl",
            """{"instruction": "Capital of France?", "output": "Paris"}""",       // 1 kept
            """{"instruction": "Say nothing", "output": "   \n"}""",              // 2 empty answer
            """{"instruction": "Capital of France?", "output": "Paris"}""",       // 3 exact duplicate of 1
            """{"instruction": "capital  of FRANCE?", "output": "paris "}""",     // 4 normalized duplicate of 1
            """{"instruction": "Cafe\u0301?", "output": "Yes"}""",                // 5 kept (decomposed é)
            """{"instruction": "CAFÉ?", "output": "yes"}""",                      // 6 normalized duplicate of 5 (NFC + case)
            """{"instruction": " ", "input": "", "output": "x"}""",               // 7 empty prompt
            """{"instruction": "Capital of Italy?", "output": "Rome"}""",         // 8 kept
            """{"instruction": "Another empty", "output": ""}""");                // 9 empty answer

        var s = Prepare(DatasetRequest.For(DatasetDescription.Alpaca(path))).Summary.Sources.Single();

        Assert.Equal(9, s.Rows);
        Assert.Equal(3, s.Kept);
        var dropped = s.Dropped.ToDictionary(d => d.Reason);
        Assert.Equal(4, dropped.Count);
        Assert.Equal(2, dropped[DropReason.EmptyAnswer].Count);
        Assert.Equal([$"{path}:2", $"{path}:9"], dropped[DropReason.EmptyAnswer].FirstAt);
        Assert.Equal([$"{path}:3"], dropped[DropReason.ExactDuplicate].FirstAt);
        Assert.Equal([$"{path}:4", $"{path}:6"], dropped[DropReason.NormalizedDuplicate].FirstAt);
        Assert.Equal([$"{path}:7"], dropped[DropReason.EmptyPrompt].FirstAt);
    }

    [Fact]
    public void Dedup_WorksAcrossDatasetsAndCanBeTurnedOff()
    {
        var a = _files.Lines("a.jsonl", """{"instruction": "Q", "output": "A"}""", """{"instruction": "R", "output": "B"}""");
        var b = _files.Lines("b.jsonl", """{"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}""", """{"conversations": [{"from": "human", "value": "S"}, {"from": "gpt", "value": "C"}]}""");
        var request = DatasetRequest.For(DatasetDescription.Alpaca(a), DatasetDescription.ShareGpt(b));

        var deduped = Prepare(request);
        var kept = Prepare(request with { Deduplicate = false });

        Assert.Equal(3, deduped.Train.Count);
        Assert.Equal(DropReason.ExactDuplicate, deduped.Summary.Sources[1].Dropped.Single().Reason);
        Assert.Equal(4, kept.Train.Count);
    }

    [Fact]
    public void NormalizedKey_FoldsNfcWhitespaceAndCase()
    {
        Assert.Equal("café au lait", Normalize("  Cafe\u0301\t AU\n\nLait "));
        Assert.NotEqual(Normalize("a b"), Normalize("ab"));
    }

    private static string Normalize(string s) => FineTuneAgent.Core.Datasets.ConversationKey.Normalize(s).Trim();

    [Fact]
    public void Cutoff_DropVersusTruncate()
    {
        var longAnswer = string.Join(" ", Enumerable.Range(0, 60).Select(i => "word" + i));
        var path = _files.Lines("l.jsonl",
            """{"instruction": "Short?", "output": "Yes."}""",
            $$"""{"instruction": "Long?", "output": "{{longAnswer}}"}""");
        var request = DatasetRequest.For(DatasetDescription.Alpaca(path)) with { CutoffLength = 40 };

        var dropped = Prepare(request);
        var truncated = Prepare(request with { Overlength = OverlengthPolicy.Truncate });

        Assert.Single(dropped.Train);
        Assert.Equal([$"{path}:2"], dropped.Summary.Sources[0].Dropped.Single(d => d.Reason == DropReason.TooLong).FirstAt);
        Assert.Equal(2, truncated.Train.Count);
        Assert.Equal(1, truncated.Summary.Sources[0].Truncated);
        Assert.Equal(40, truncated.Train.Max(r => r.Length));
        var cut = truncated.Train.Single(r => r.Length == 40);
        Assert.StartsWith("<think>\n\n</think>\n\nword0 word1", LossRuns.Decode(cut, RealTokenizers.Qwen3).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Truncate_WithNoAnswerTokenLeft_DropsAsTooLong()
    {
        var longPrompt = string.Join(" ", Enumerable.Range(0, 60).Select(i => "word" + i));
        var path = _files.Lines("p.jsonl",
            """{"instruction": "Short?", "output": "Yes."}""",
            $$"""{"instruction": "{{longPrompt}}", "output": "ok"}""");

        var result = Prepare(DatasetRequest.For(DatasetDescription.Alpaca(path)) with { CutoffLength = 40, Overlength = OverlengthPolicy.Truncate });

        Assert.Single(result.Train);
        Assert.Equal(DropReason.TooLong, result.Summary.Sources[0].Dropped.Single().Reason);
    }
}
