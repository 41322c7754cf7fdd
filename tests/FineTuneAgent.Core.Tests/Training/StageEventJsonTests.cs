using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>The stage events as `fta train --json` and metrics.jsonl write them.</summary>
public sealed class StageEventJsonTests
{
    [Fact]
    public void DatasetReady_ListsEachFilesRows_DropsByReason_AndTheSplit()
    {
        var source = new SourceSummary("chat", "/data/chat.jsonl", Rows: 10, BadRows: 0, FirstBadRows: [],
            Dropped: [new DropCount(DropReason.ExactDuplicate, 2, ["/data/chat.jsonl:4", "/data/chat.jsonl:9"]), new DropCount(DropReason.TooLong, 1, ["/data/chat.jsonl:7"])],
            Truncated: 0, Kept: 7, Used: 7);
        var summary = new DatasetSummary([source], TrainExamples: 6, ValidationExamples: 1, TrainSequences: 6, ValidationSequences: 1,
            TrainTokens: 300, TrainLossTokens: 120, Warnings: []);

        var json = TrainingEventJson.Write(new DatasetReady(summary, CacheOutcome.Miss));

        Assert.Equal("dataset", (string?)json["event"]);
        var s = json["sources"]![0]!;
        Assert.Equal((10, 7, 7), ((int)s["rows"]!, (int)s["kept"]!, (int)s["used"]!));
        Assert.Equal(2, (int)s["dropped"]!["exact_duplicate"]!["count"]!);
        Assert.Equal("/data/chat.jsonl:4", (string?)s["dropped"]!["exact_duplicate"]!["first_at"]![0]);
        Assert.Equal(1, (int)s["dropped"]!["too_long"]!["count"]!);
        Assert.Equal((6, 1, 300L), ((int)json["train_rows"]!, (int)json["validation_rows"]!, (long)json["train_tokens"]!));
        Assert.Equal("miss", (string?)json["cache"]);
    }

    [Fact]
    public void StageEvents_CarryTheStage_ProgressCounts_AndTheQuantizedBase()
    {
        Assert.Equal("{\"event\":\"stage\",\"stage\":\"quantizer\"}", TrainingEventJson.Write(new StageStarted("quantizer")).ToJsonString());
        var progress = TrainingEventJson.Write(new StageProgressed("quantizer", "quantized model.layers.0.self_attn.q_proj.weight", 1, 14));
        Assert.Equal((1, 14), ((int)progress["done"]!, (int)progress["total"]!));
        var q = TrainingEventJson.Write(new QuantizedBaseReady("nf4-b64-dq", 14, FromCache: true, "/cache/qbase.safetensors", null));
        Assert.Equal("quantized_base", (string?)q["event"]);
        Assert.True((bool)q["from_cache"]!);
        Assert.Equal("/cache/qbase.safetensors", (string?)q["cache_file"]);
        // No "step" field: resuming drops metric lines after the checkpoint's step, and these must stay.
        Assert.All(new[] { progress, q }, j => Assert.False(j.ContainsKey("step")));
    }
}
