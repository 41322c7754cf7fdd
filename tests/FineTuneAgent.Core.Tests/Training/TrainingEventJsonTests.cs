using System.Text.Json.Nodes;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// <see cref="TrainingEventJson.Read"/> against <see cref="TrainingEventJson.Write"/>: a remote run's events
/// (Write → text → parse → Read) must come back as the records the run reported, so the terminal view shows the
/// same; bad input must fail naming the event and the field.
/// </summary>
public sealed class TrainingEventJsonTests
{
    // Numbers Write rounds (epoch to 4 places, tokens/s and the ETA to 1, elapsed to 3) are given already rounded, so
    // these round trips are exact; the others use digits a float would lose if Write or Read went through one.
    public static TheoryData<TrainingEvent> Events => new()
    {
        new StepCompleted(37, 120, 1.2345, 1.234567890123, 2.0e-4, 0.87654321, 1834.5, TimeSpan.FromMilliseconds(83_456), TimeSpan.FromSeconds(250.5)),
        // 0.043 s: TimeSpan.FromSeconds(0.043) is a tick short, so this checks Read rounds to the tick.
        new StepCompleted(1, 1, 0, -0.5, 0, 0, 0, TimeSpan.FromMilliseconds(43), null),
        new EvaluationCompleted(40, 1.0987654321, IsBest: true, 0),
        new EvaluationCompleted(80, 1.2, IsBest: false, 3),
        new CheckpointSaved(40, "/runs/r1/checkpoint-40"),
        new EarlyStopped(120, 3, 0.9876543, 60),
        new TrainingRetried(1, 3, 17, 10, "/runs/r1/checkpoint-10", 2, 8, "out of memory: 3.2 GiB requested"),
        new TrainingRetried(2, 3, 5, 0, null, 1, 16, "CUDA out of memory"),
        new JobMessage("auto picked qlora: \"full\" needs 14 GiB → this machine has 8\n(é, 日本)"),
        new StageStarted("quantizer"),
        new StageProgressed("quantizer", "quantized model.layers.0.self_attn.q_proj.weight", 1, 14),
        new StageProgressed("dataset", "reading chat.jsonl"),
        new QuantizedBaseReady("nf4-b64-dq", 14, FromCache: false, "/cache/qbase.safetensors", "checksum mismatch"),
        new QuantizedBaseReady("int8", 0, FromCache: true, "/cache/q.safetensors", null),
        new EvaluationReady("/runs/r1/eval.json", 2.25, 1.125, 0.0625, 12.5, 48.75, 20),
        new EvaluationReady("/runs/r1/eval.json", 2.25, null, null, 12.5, null, 0),
        new ExportReady("gguf", "/runs/r1/model.gguf"),
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Read_GivesBackTheEventWriteWrote(TrainingEvent e)
    {
        Assert.Equal(e, ThroughText(e));
        // An object Write built, before it is text, reads the same (its numbers are boxed ints and doubles, not parsed).
        Assert.Equal(e, TrainingEventJson.Read(TrainingEventJson.Write(e)));
    }

    [Theory]
    [InlineData(CacheOutcome.Disabled)]
    [InlineData(CacheOutcome.Miss)]
    [InlineData(CacheOutcome.Hit)]
    [InlineData(CacheOutcome.Rebuilt)]
    public void DatasetReady_ComesBackWithEveryFile_DropReason_BadRow_AndWarning(CacheOutcome cache)
    {
        var e = new DatasetReady(Summary(), cache);

        var back = Assert.IsType<DatasetReady>(ThroughText(e));

        // DatasetSummary, SourceSummary and DropCount hold lists, which records compare by reference, so Assert.Equal
        // would fail on equal values. Equivalent compares member by member down the lists, so a field Write leaves out
        // fails here; comparing re-Written JSON would not catch that (first_bad_rows was once left out).
        Assert.Equivalent(e, back, strict: true);
        Assert.Equal(cache, back.Cache);
        Assert.Equal(e.Summary.Describe(), back.Summary.Describe());
    }

    [Fact]
    public void EveryEventType_IsInTheRoundTrips()
    {
        var covered = ((IEnumerable<object[]>)Events).Select(row => row[0].GetType()).Append(typeof(DatasetReady)).Select(t => t.Name).Distinct().Order();
        var all = typeof(TrainingEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(TrainingEvent)) && !t.IsAbstract).Select(t => t.Name).Order();
        Assert.Equal(all, covered);
    }

    [Fact]
    public void Read_GivesTheNumbersAsWriteRoundedThem()
    {
        var e = new StepCompleted(3, 10, 0.123456789, 1.5, 1e-4, 2.5, 987.654, TimeSpan.FromTicks(12_345_678), TimeSpan.FromSeconds(61.26));

        var back = ThroughText(e);

        Assert.Equal(e with { Epoch = 0.1235, TokensPerSecond = 987.7, Elapsed = TimeSpan.FromMilliseconds(1235), Eta = TimeSpan.FromMilliseconds(61_300) }, back);
    }

    [Fact]
    public void AMissingField_IsNamedWithItsEvent()
    {
        var step = Spoiled(Step, j => j.Remove("loss"));
        Assert.Equal("step event: missing \"loss\"", Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(step)).Message);
        // A nullable field is still written (as null); its absence is a malformed event, not "no ETA".
        var noEta = Spoiled(Step, j => j.Remove("eta_seconds"));
        Assert.Equal("step event: missing \"eta_seconds\"", Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(noEta)).Message);
        var noEvent = Spoiled(Step, j => j.Remove("event"));
        Assert.Equal("training event: missing \"event\"", Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(noEvent)).Message);
        var noBadRows = Spoiled(new DatasetReady(Summary(), CacheOutcome.Miss), j => j["sources"]![1]!.AsObject().Remove("first_bad_rows"));
        Assert.Equal("dataset event: missing \"sources[1].first_bad_rows\"", Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(noBadRows)).Message);
    }

    [Theory]
    [InlineData("loss", "\"1.5\"", "step event: \"loss\" must be a number, got \"1.5\"")]
    [InlineData("step", "1.5", "step event: \"step\" must be an integer, got 1.5")]
    [InlineData("step", "null", "step event: \"step\" must be an integer, got null")]
    [InlineData("eta_seconds", "\"soon\"", "step event: \"eta_seconds\" must be a number or null, got \"soon\"")]
    [InlineData("elapsed_seconds", "1e300", "step event: \"elapsed_seconds\" must be a number of seconds within TimeSpan's range, got 1e300")]
    [InlineData("total_steps", "[2]", "step event: \"total_steps\" must be an integer, got [2]")]
    public void AWronglyTypedField_IsNamedWithItsEvent_AndWhatItHeld(string field, string value, string message)
    {
        var json = Spoiled(Step, j => j[field] = JsonNode.Parse(value));
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(json)).Message);
    }

    [Fact]
    public void WronglyTypedFields_OfOtherEvents_AndInsideTheDatasetSummary()
    {
        Assert.Equal("eval event: \"is_best\" must be true or false, got 1",
            Fails(new EvaluationCompleted(1, 1, true, 0), j => j["is_best"] = 1));
        Assert.Equal("checkpoint event: \"path\" must be a string, got null",
            Fails(new CheckpointSaved(1, "/c"), j => j["path"] = null));
        Assert.Equal("retry event: \"checkpoint\" must be a string or null, got 5",
            Fails(new TrainingRetried(1, 3, 5, 0, null, 1, 2, "oom"), j => j["checkpoint"] = 5));

        var dataset = new DatasetReady(Summary(), CacheOutcome.Hit);
        Assert.Equal("dataset event: \"sources[0].dropped.too_long.count\" must be an integer, got \"x\"",
            Fails(dataset, j => j["sources"]![0]!["dropped"]!["too_long"]!["count"] = "x"));
        Assert.Equal("dataset event: \"sources[0].dropped.too_long.first_at[1]\" must be a string, got 7",
            Fails(dataset, j => j["sources"]![0]!["dropped"]!["too_long"]!["first_at"]![1] = 7));
        Assert.Equal("dataset event: \"sources[1]\" must be an object, got \"chat\"",
            Fails(dataset, j => j["sources"]![1] = "chat"));
        Assert.Equal("dataset event: \"warnings\" must be a list, got \"none\"",
            Fails(dataset, j => j["warnings"] = "none"));
        Assert.StartsWith("dataset event: \"sources[0].dropped\" has an unknown reason \"too_short\" (known: empty_prompt, ",
            Fails(dataset, j => j["sources"]![0]!["dropped"]!.AsObject().Add("too_short", new JsonObject { ["count"] = 1, ["first_at"] = new JsonArray() })));
        Assert.Equal("dataset event: \"cache\" must be one of disabled, miss, hit, rebuilt, got \"warm\"",
            Fails(dataset, j => j["cache"] = "warm"));
    }

    [Fact]
    public void AnUnknownEvent_IsAnErrorNamingIt_OrNullFromTryRead()
    {
        var json = new JsonObject { ["event"] = "gradient_histogram", ["step"] = 3 };

        var e = Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(json));
        Assert.Equal("unknown training event \"gradient_histogram\"", e.Message);
        Assert.Null(TrainingEventJson.TryRead(json));
        // TryRead skips only what it does not know: a known event with a bad field still fails.
        Assert.Throws<InvalidDataException>(() => TrainingEventJson.TryRead(Spoiled(Step, j => j.Remove("loss"))));
        Assert.Equal("training event: \"event\" must be a string, got 3",
            Assert.Throws<InvalidDataException>(() => TrainingEventJson.TryRead(new JsonObject { ["event"] = 3 })).Message);
    }

    [Fact]
    public void UnknownFields_AreIgnored_SoANewerWriterMayAddSome()
    {
        var json = Spoiled(Step, j => j["loss_scale"] = 1024);
        Assert.Equal(Step, TrainingEventJson.Read(json));
    }

    private static readonly StepCompleted Step = new(2, 10, 0.25, 1.5, 1e-4, 0.5, 100, TimeSpan.FromSeconds(4), null);

    /// <summary>Two files: one with bad rows and every drop reason, one clean; token counts past int's range.</summary>
    private static DatasetSummary Summary()
    {
        var drops = Enum.GetValues<DropReason>().Select((r, i) => new DropCount(r, i + 1, [.. Enumerable.Range(0, i + 1).Select(k => $"/data/chat.jsonl:{10 * i + k + 1}")])).ToList();
        var chat = new SourceSummary("chat", "/data/chat.jsonl", Rows: 120, BadRows: 2, FirstBadRows: ["/data/chat.jsonl:3: not JSON", "/data/chat.jsonl:8: no messages"],
            Dropped: drops, Truncated: 4, Kept: 103, Used: 90);
        var docs = new SourceSummary("docs", "/data/docs.parquet", Rows: 40, BadRows: 0, FirstBadRows: [], Dropped: [], Truncated: 0, Kept: 40, Used: 40);
        return new DatasetSummary([chat, docs], TrainExamples: 123, ValidationExamples: 7, TrainSequences: 61, ValidationSequences: 4,
            TrainTokens: 5_000_000_123L, TrainLossTokens: 3_000_000_001L, Warnings: ["reasoning is dropped: the template does not render it", "val_size rounds to 7 rows"]);
    }

    /// <summary>What a client receiving the event over the wire gets: Write's object as text, parsed, read.</summary>
    private static TrainingEvent ThroughText(TrainingEvent e) =>
        TrainingEventJson.Read(JsonNode.Parse(TrainingEventJson.Write(e).ToJsonString())!.AsObject());

    /// <summary>The event as parsed text, changed by <paramref name="spoil"/>.</summary>
    private static JsonObject Spoiled(TrainingEvent e, Action<JsonObject> spoil)
    {
        var json = JsonNode.Parse(TrainingEventJson.Write(e).ToJsonString())!.AsObject();
        spoil(json);
        return json;
    }

    private static string Fails(TrainingEvent e, Action<JsonObject> spoil) =>
        Assert.Throws<InvalidDataException>(() => TrainingEventJson.Read(Spoiled(e, spoil))).Message;
}
