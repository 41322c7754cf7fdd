using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Actors.Event;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Core.History.HistoryProtocol;

namespace FineTuneAgent.Core.Tests.History;

public sealed class HistoryWriterTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly HistoryFolder _folder = new();
    private readonly ActorSystem _system = ActorSystem.Create("history-writer-test");
    private readonly HistoryStore _store;
    private readonly IActorRef _writer;

    public HistoryWriterTests()
    {
        _store = HistoryStore.Open(_folder.Database);
        _writer = _system.ActorOf(HistoryWriter.Props(_store), "history");
    }

    public void Dispose()
    {
        _system.Dispose();
        _folder.Dispose();
    }

    private static HistoryRun Run(string id, string method = "lora") => new()
    {
        Id = id,
        Method = method,
        ModelPath = "/models/qwen3-0.6b",
        Config = new JsonObject { ["run_id"] = id, ["method"] = method },
    };

    private T Ask<T>(object message) => _writer.Ask<T>(message, s_timeout).GetAwaiter().GetResult();

    [Fact]
    public async Task ManyThreadsWriting_WhileOthersRead_LoseNoRow_AndKeepEachRunsOrder()
    {
        const int writers = 8, batches = 25, perBatch = 8;
        var readerErrors = new ConcurrentBag<Exception>();
        var seenAtLeastOnce = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            using var reader = _store.OpenReader();
            var last = new Dictionary<string, int>();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    foreach (var run in reader.ListRuns())
                    {
                        var metrics = reader.Metrics(run.Id);
                        // Batches are whole (one transaction each) and never go backwards for a reader.
                        Assert.Equal(0, metrics.Count % perBatch);
                        Assert.True(metrics.Count >= last.GetValueOrDefault(run.Id), $"{run.Id}: {metrics.Count} rows after {last.GetValueOrDefault(run.Id)}");
                        last[run.Id] = metrics.Count;
                        if (metrics.Count > 0)
                            Interlocked.Exchange(ref seenAtLeastOnce, 1);
                    }
                }
                catch (Exception e)
                {
                    readerErrors.Add(e);
                    return;
                }
            }
        })).ToList();

        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            var id = $"run-{w}";
            _writer.Tell(new RecordRun(Run(id)));
            for (var b = 0; b < batches; b++)
                _writer.Tell(new AppendMetrics(id, Enumerable.Range(b * perBatch + 1, perBatch).Select(s => new HistoryMetric(s, HistoryMetricKind.Train, Loss: s)).ToList()));
            _writer.Tell(new UpdateStatus(id, RunStatus.Completed));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        // Messages are applied in arrival order: once this asked write is answered, every told one before it is committed.
        await _writer.Ask<Written>(new RecordRun(Run("marker")), s_timeout);
        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Empty(readerErrors);
        Assert.Equal(1, seenAtLeastOnce);
        using var check = _store.OpenReader();
        for (var w = 0; w < writers; w++)
        {
            var id = $"run-{w}";
            Assert.Equal(RunStatus.Completed, check.GetRun(id).Status);
            Assert.Equal(Enumerable.Range(1, batches * perBatch), check.Metrics(id).Select(m => m.Step));
        }
        Assert.Equal("ok", HistoryFolder.IntegrityCheck(_folder.Database));
    }

    [Fact]
    public void UpdateStatus_SetsStartOnce_EndOnFinish_AndClearsThemOnResume()
    {
        Ask<Written>(new RecordRun(Run("r")));
        Ask<Written>(new UpdateStatus("r", RunStatus.Running));
        using var reader = _store.OpenReader();
        var started = reader.GetRun("r").StartedAt;
        Assert.NotNull(started);
        Ask<Written>(new UpdateStatus("r", RunStatus.Failed, Error: "TrainingOutOfMemoryException: out of memory"));
        var failed = reader.GetRun("r");
        Assert.Equal((RunStatus.Failed, "TrainingOutOfMemoryException: out of memory"), (failed.Status, failed.Error));
        Assert.NotNull(failed.EndedAt);
        Ask<Written>(new UpdateStatus("r", RunStatus.Running));
        var resumed = reader.GetRun("r");
        Assert.Equal((RunStatus.Running, started, null, null), (resumed.Status, resumed.StartedAt, resumed.EndedAt, resumed.Error));
        Ask<Written>(new UpdateStatus("r", RunStatus.Completed, Summary: new JsonObject { ["steps"] = 3 }));
        Assert.Equal(3, (int)reader.GetRun("r").Summary!["steps"]!);
    }

    [Fact]
    public void WriteForAnUnknownRun_IsRefusedWithItsId_AndTheWriterGoesOn()
    {
        var warnings = new ConcurrentQueue<Warning>();
        var probe = _system.ActorOf(Props.Create(() => new WarningCollector(warnings)));
        _system.EventStream.Subscribe(probe, typeof(Warning));

        var e = Assert.Throws<KeyNotFoundException>(() => Ask<Written>(new AppendMetrics("ghost", [new HistoryMetric(1, HistoryMetricKind.Train, 1.0)])));
        Assert.Contains("'ghost'", e.Message);
        Assert.Throws<KeyNotFoundException>(() => Ask<Written>(new UpdateStatus("ghost", RunStatus.Completed)));

        Ask<Written>(new RecordRun(Run("real")));
        Ask<Written>(new AppendMetrics("real", [new HistoryMetric(1, HistoryMetricKind.Train, 1.0)]));
        using var reader = _store.OpenReader();
        Assert.Single(reader.Metrics("real"));
        SpinWait.SpinUntil(() => warnings.Count >= 2, s_timeout);
        Assert.Contains(warnings, w => w.Message.Contains("ghost"));
    }

    [Fact]
    public void DeleteRun_RemovesItsRows_AndReportsWhetherItExisted()
    {
        Ask<Written>(new RecordRun(Run("gone")));
        Ask<Written>(new AppendMetrics("gone", [new HistoryMetric(1, HistoryMetricKind.Train, 1.0)]));
        Ask<Written>(new RecordEvaluation("gone", new JsonObject { ["x"] = 1 }));
        Ask<Written>(new RecordArtefact(new HistoryArtefact("gone", "adapter", "/out/gone", "ab", 10)));
        Ask<Written>(new RecordRun(Run("kept")));

        Assert.Equal(new RunDeleted("gone", true), Ask<RunDeleted>(new DeleteRun("gone")));
        Assert.Equal(new RunDeleted("gone", false), Ask<RunDeleted>(new DeleteRun("gone")));

        using var reader = _store.OpenReader();
        Assert.Equal(["kept"], reader.ListRuns().Select(r => r.Id));
        Assert.Empty(reader.Metrics("gone"));
        Assert.Empty(reader.Evaluations("gone"));
        Assert.Empty(reader.Artefacts("gone"));
    }

    [Fact]
    public void TruncateMetricsAfter_DropsRepeatedSteps_ButKeepsRetries()
    {
        Ask<Written>(new RecordRun(Run("r")));
        Ask<Written>(new AppendMetrics("r", [
            new HistoryMetric(1, HistoryMetricKind.Train, 3), new HistoryMetric(2, HistoryMetricKind.Train, 2),
            new HistoryMetric(3, HistoryMetricKind.Retry), new HistoryMetric(3, HistoryMetricKind.Train, 1), new HistoryMetric(3, HistoryMetricKind.Eval, 1.5)]));
        Ask<Written>(new TruncateMetricsAfter("r", 2));
        using var reader = _store.OpenReader();
        Assert.Equal([(1, HistoryMetricKind.Train), (2, HistoryMetricKind.Train), (3, HistoryMetricKind.Retry)], reader.Metrics("r").Select(m => (m.Step, m.Kind)));
    }

    [Fact]
    public void ListRuns_FiltersByStatusMethodAndText_NewestFirst_AndGetRunTakesAPrefix()
    {
        var t0 = DateTimeOffset.Parse("2026-05-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        Ask<Written>(new RecordRun(Run("20260501-a1", "lora") with { CreatedAt = t0 }));
        Ask<Written>(new RecordRun(Run("20260502-b2", "full") with { CreatedAt = t0.AddDays(1), Status = RunStatus.Failed, Error = "diverged at step 7" }));
        Ask<Written>(new RecordRun(Run("20260503-c3", "lora") with { CreatedAt = t0.AddDays(2), Status = RunStatus.Completed, Config = new JsonObject { ["note"] = "100%_sure" } }));

        using var reader = _store.OpenReader();
        Assert.Equal(["20260503-c3", "20260502-b2", "20260501-a1"], reader.ListRuns().Select(r => r.Id));
        Assert.Equal(["20260503-c3", "20260501-a1"], reader.ListRuns(new RunFilter(Method: "lora")).Select(r => r.Id));
        Assert.Equal(["20260502-b2"], reader.ListRuns(new RunFilter(Status: RunStatus.Failed)).Select(r => r.Id));
        Assert.Equal(["20260502-b2"], reader.ListRuns(new RunFilter(Text: "DIVERGED")).Select(r => r.Id));
        Assert.Equal(["20260503-c3"], reader.ListRuns(new RunFilter(Text: "100%_")).Select(r => r.Id)); // % and _ are literal
        Assert.Empty(reader.ListRuns(new RunFilter(Status: RunStatus.Completed, Method: "full")));
        Assert.Equal(["20260503-c3"], reader.ListRuns(new RunFilter(Limit: 1)).Select(r => r.Id));

        Assert.Equal("20260502-b2", reader.GetRun("20260502").Id);
        Assert.Contains("ambiguous", Assert.Throws<KeyNotFoundException>(() => reader.GetRun("2026050")).Message);
        Assert.Contains(_folder.Database, Assert.Throws<KeyNotFoundException>(() => reader.GetRun("nope")).Message);
    }

    [Fact]
    public void Compare_DiffsConfigsKeyByKey()
    {
        Ask<Written>(new RecordRun(Run("a") with { Config = JsonNode.Parse("""{"method":"lora","training":{"learning_rate":0.0001,"seed":1},"datasets":["x.json"]}""")!.AsObject() }));
        Ask<Written>(new RecordRun(Run("b") with { Config = JsonNode.Parse("""{"method":"dora","training":{"learning_rate":0.0001,"seed":2},"datasets":[],"template":"qwen3"}""")!.AsObject() }));
        using var reader = _store.OpenReader();
        var c = reader.Compare("a", "b");
        Assert.Equal([
            new ConfigDifference("datasets", null, "[]"),
            new ConfigDifference("datasets[0]", "\"x.json\"", null),
            new ConfigDifference("method", "\"lora\"", "\"dora\""),
            new ConfigDifference("template", null, "\"qwen3\""),
            new ConfigDifference("training.seed", "1", "2")], c.ConfigDifferences);
    }

    [Fact]
    public void HardwareProfiles_PutReplacesByName()
    {
        Ask<Written>(new PutHardwareProfile(new HardwareProfileEntry("rtx-3060-12gb", new JsonObject { ["gpu_gb"] = 12 }, new JsonObject { ["7B"] = "qlora-4" }, "1")));
        Ask<Written>(new PutHardwareProfile(new HardwareProfileEntry("rtx-3060-12gb", new JsonObject { ["gpu_gb"] = 12 }, new JsonObject { ["7B"] = "qlora-8" }, "2")));
        Ask<Written>(new PutHardwareProfile(new HardwareProfileEntry("a100-80gb", new JsonObject { ["gpu_gb"] = 80 }, null, "2")));
        using var reader = _store.OpenReader();
        Assert.Equal(["a100-80gb", "rtx-3060-12gb"], reader.ListHardwareProfiles().Select(p => p.Name));
        var p = reader.GetHardwareProfile("rtx-3060-12gb")!;
        Assert.Equal(("qlora-8", "2"), ((string)p.Feasibility!["7B"]!, p.EstimatorVersion));
        Assert.Null(reader.GetHardwareProfile("h100"));
    }

    private sealed class WarningCollector : ReceiveActor
    {
        public WarningCollector(ConcurrentQueue<Warning> into) => Receive<Warning>(into.Enqueue);
    }
}
