using System.Text.Json.Nodes;
using FineTuneAgent.Actors;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.History;

/// <summary>The JSON run folders (RunStore) come into the history once, and again only when they changed.</summary>
public sealed class RunFolderImportTests : IDisposable
{
    private readonly HistoryFolder _folder = new();
    private readonly RunStore _runs;
    private readonly HistoryStore _store;

    public RunFolderImportTests()
    {
        _runs = new RunStore(Path.Combine(_folder.Path, "runs"));
        _store = HistoryStore.Open(HistoryStore.DefaultPath(_runs.Folder));
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>A finished run as TrainingJob records it: run.json, three steps, an eval, a checkpoint, eval.json.</summary>
    private string WriteRun(string id, string method = "lora")
    {
        var output = Path.Combine(_runs.Folder, id, "output");
        var record = _runs.Create(id, new JsonObject { ["run_id"] = id, ["model"] = null, ["built_in_seed"] = 0, ["method"] = method, ["output_dir"] = output }, output);
        for (var step = 1; step <= 3; step++)
        {
            _runs.AppendMetric(id, new JsonObject
            {
                ["event"] = "step", ["step"] = step, ["total_steps"] = 3, ["epoch"] = step / 3.0, ["loss"] = 4.0 - step,
                ["learning_rate"] = 1e-4, ["grad_norm"] = 0.5, ["tokens_per_second"] = 100.0,
            });
        }
        _runs.AppendMetric(id, new JsonObject { ["event"] = "eval", ["step"] = 3, ["eval_loss"] = 1.5, ["is_best"] = true });
        var checkpoint = Path.Combine(output, "checkpoint-3");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllBytes(Path.Combine(checkpoint, "adapter_model.safetensors"), new byte[1000]);
        _runs.AppendMetric(id, new JsonObject { ["event"] = "checkpoint", ["step"] = 3, ["path"] = checkpoint });
        var evalFile = Path.Combine(output, "eval.json");
        File.WriteAllText(evalFile, """{"tuned":{"validation":{"loss":1.4}}}""");
        _runs.Save(_runs.Get(id) with { Status = RunStatus.Completed, Checkpoints = [checkpoint], EvaluationFile = evalFile, Summary = new JsonObject { ["steps"] = 3 } });
        return id;
    }

    [Fact]
    public void Import_BringsRunsMetricsEvaluationsAndArtefacts()
    {
        WriteRun("20260101-000000-aaaaaa");
        var report = _store.ImportRunFolders(_runs);
        Assert.Equal(new RunFolderImportReport(1, 0, 0, []), report with { Problems = [] });
        Assert.Empty(report.Problems);

        using var reader = _store.OpenReader();
        var run = reader.GetRun("20260101-000000-aaaaaa");
        Assert.Equal((RunStatus.Completed, "lora"), (run.Status, run.Method));
        Assert.Equal(Path.Combine(_runs.Folder, "builtin-models", "qwen3-tiny-seed0"), run.ModelPath);
        Assert.NotNull(run.EndedAt);
        var metrics = reader.Metrics(run.Id);
        Assert.Equal([(1, HistoryMetricKind.Train, 3.0), (2, HistoryMetricKind.Train, 2.0), (3, HistoryMetricKind.Train, 1.0), (3, HistoryMetricKind.Eval, 1.5)],
            metrics.Select(m => (m.Step, m.Kind, m.Loss!.Value)));
        Assert.Equal(1.0 / 3, (double)metrics[0].Extra!["epoch"]!, 6);
        Assert.Equal(1.4, (double)reader.Evaluations(run.Id).Single().Results["tuned"]!["validation"]!["loss"]!);
        var artefacts = reader.Artefacts(run.Id);
        Assert.Equal(1000, artefacts.Single(a => a.Kind == "checkpoint").Bytes);
        Assert.Equal(64, artefacts.Single(a => a.Kind == "evaluation").Sha256!.Length);
    }

    [Fact]
    public void Import_Again_ChangesNothing_UntilAFolderChanges()
    {
        WriteRun("20260101-000000-aaaaaa");
        WriteRun("20260102-000000-bbbbbb", "full");
        Assert.Equal(2, _store.ImportRunFolders(_runs).Imported);
        var before = File.ReadAllBytes(_store.DatabasePath);

        var again = _store.ImportRunFolders(_runs);
        Assert.Equal((0, 2), (again.Imported, again.Unchanged));
        using (var reader = _store.OpenReader())
        {
            Assert.Equal(4, reader.Metrics("20260101-000000-aaaaaa").Count);
            Assert.Single(reader.Evaluations("20260101-000000-aaaaaa"));
        }

        // A resumed run writes more metrics: that folder alone is read again, its rows replaced, not doubled.
        _runs.AppendMetric("20260102-000000-bbbbbb", new JsonObject { ["event"] = "step", ["step"] = 4, ["loss"] = 0.5 });
        var third = _store.ImportRunFolders(_runs);
        Assert.Equal((1, 1), (third.Imported, third.Unchanged));
        using var check = _store.OpenReader();
        Assert.Equal([1, 2, 3, 3, 4], check.Metrics("20260102-000000-bbbbbb").Select(m => m.Step));
        Assert.Single(check.Evaluations("20260102-000000-bbbbbb"));
        Assert.Equal(2, check.Artefacts("20260102-000000-bbbbbb").Count);
        Assert.NotEmpty(before);
    }

    [Fact]
    public async Task Import_SkipsRunsDeletedFromTheHistory()
    {
        WriteRun("20260101-000000-aaaaaa");
        _store.ImportRunFolders(_runs);
        using (var system = ActorSystem.Create("import-test"))
        {
            var writer = system.ActorOf(HistoryWriter.Props(_store));
            await writer.Ask<HistoryProtocol.RunDeleted>(new HistoryProtocol.DeleteRun("20260101-000000-aaaaaa"));
        }
        var report = _store.ImportRunFolders(_runs);
        Assert.Equal((0, 1), (report.Imported, report.SkippedDeleted));
        using var reader = _store.OpenReader();
        Assert.Empty(reader.ListRuns());
        Assert.True(File.Exists(Path.Combine(_runs.RunFolder("20260101-000000-aaaaaa"), RunStore.RecordFileName)));
    }

    [Fact]
    public void Import_MalformedRunJson_IsReportedWithItsPath_AndTheOthersImported()
    {
        WriteRun("20260101-000000-aaaaaa");
        var broken = Path.Combine(_runs.Folder, "20260103-000000-cccccc");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, RunStore.RecordFileName), "{\"id\": \"20260103-000000-cccccc\", \"config\": ");
        var before = File.ReadAllBytes(Path.Combine(broken, RunStore.RecordFileName));

        var report = _store.ImportRunFolders(_runs);

        Assert.Equal(1, report.Imported);
        Assert.Contains(Path.Combine(broken, RunStore.RecordFileName), Assert.Single(report.Problems));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(broken, RunStore.RecordFileName)));
        using var reader = _store.OpenReader();
        Assert.Equal(["20260101-000000-aaaaaa"], reader.ListRuns().Select(r => r.Id));
    }

    [Fact]
    public async Task Import_KeepsHashesAndHardwareTheWriterRecorded()
    {
        WriteRun("20260101-000000-aaaaaa");
        _store.ImportRunFolders(_runs);
        using (var system = ActorSystem.Create("import-test"))
        {
            var writer = system.ActorOf(HistoryWriter.Props(_store));
            using var reader = _store.OpenReader();
            var run = reader.GetRun("20260101-000000-aaaaaa");
            await writer.Ask<HistoryProtocol.Written>(new HistoryProtocol.RecordRun(run with { ModelHash = "m", DatasetHash = "d", Hardware = new JsonObject { ["cores"] = 2 } }));
        }
        _runs.Save(_runs.Get("20260101-000000-aaaaaa") with { Error = "touched" });
        Assert.Equal(1, _store.ImportRunFolders(_runs).Imported);
        using var check = _store.OpenReader();
        var again = check.GetRun("20260101-000000-aaaaaa");
        Assert.Equal(("m", "d", 2, "touched"), (again.ModelHash, again.DatasetHash, (int)again.Hardware!["cores"]!, again.Error));
    }
}
