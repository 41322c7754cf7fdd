using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.History;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Agent.Tests;

/// <summary>
/// Runs through the pipeline with a history writer: the SQLite history follows the run as it goes (row with the
/// model's and the dataset's hashes and the hardware, metrics, checkpoints, evaluation, exports, the end), agrees
/// with the run's own folder (run.json, metrics.jsonl), and importing that folder afterwards adds nothing twice.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class RunHistoryRecordingTests : IDisposable
{
    private readonly JobHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task ACompletedRun_IsRecordedWithHashesHardwareMetricsEvaluationAndHashedExports()
    {
        var history = _harness.RecordHistory();
        var request = _harness.Request("lora") with
        {
            Evaluation = new EvaluateAfterTraining { MaxSamples = 2, MaxNewTokens = 2 },
            Export = new ExportAfterTraining([Core.Export.ExportFormat.Peft, Core.Export.ExportFormat.GgufAdapter], null, "f16"),
        };
        request = request with { Options = request.Options with { ValSize = 2, EvalSteps = 2 } };
        var (outcome, events, _) = await _harness.Run(_harness.Job(), request);
        var completed = Assert.IsType<JobCompleted>(outcome);

        using var reader = history.OpenReader();
        var run = reader.GetRun(request.RunId);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("lora", run.Method);
        Assert.Null(run.Error);
        Assert.NotNull(run.EndedAt);
        Assert.Equal(completed.Summary.Steps, (int)run.Summary!["steps"]!);

        // The model's hash is the checkpoint's content digest, computed here afresh without the memo the run used.
        var modelDir = run.ModelPath!;
        Assert.Equal(CheckpointDigest.Compute(modelDir), run.ModelHash);
        // The dataset's hash is the key its prepared rows are cached under (the cache file's name).
        var cacheFile = Assert.Single(Directory.GetFiles(_harness.Job().DatasetCacheDirectory, "dataset-*.ftads"));
        Assert.Equal(Path.GetFileNameWithoutExtension(cacheFile)["dataset-".Length..], run.DatasetHash);
        // The hardware snapshot is this machine's.
        Assert.Equal(Environment.ProcessorCount, (int)run.Hardware!["cpu"]!["logical_cores"]!);
        Assert.Equal(Environment.MachineName, (string?)run.Hardware["host"]);

        // Metrics: the same steps and losses as metrics.jsonl, in order.
        var jsonl = _harness.Store.Metrics(request.RunId);
        var trainRows = reader.Metrics(request.RunId, HistoryMetricKind.Train);
        Assert.Equal([1, 2, 3, 4], trainRows.Select(m => m.Step));
        Assert.Equal(jsonl.Where(m => (string?)m["event"] == "step").Select(m => (double)m["loss"]!), trainRows.Select(m => m.Loss!.Value));
        var evalRows = reader.Metrics(request.RunId, HistoryMetricKind.Eval);
        Assert.Equal(jsonl.Where(m => (string?)m["event"] == "eval").Select(m => (double)m["eval_loss"]!), evalRows.Select(m => m.Loss!.Value));
        Assert.NotEmpty(evalRows);

        // The evaluation, as eval.json holds it.
        var evaluated = Assert.Single(events.OfType<EvaluationReady>());
        var evaluation = Assert.Single(reader.Evaluations(request.RunId));
        Assert.Equal(evaluated.File, evaluation.Source);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(evaluated.File)), evaluation.Results));

        // Artefacts: every checkpoint, the evaluation, and each export with the SHA-256 of its bytes.
        var artefacts = reader.Artefacts(request.RunId);
        Assert.Equal(4, artefacts.Count(a => a.Kind == "checkpoint"));
        var gguf = Assert.Single(artefacts, a => a.Kind == "export-gguf-adapter");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(gguf.Path))), gguf.Sha256);
        Assert.Equal(new FileInfo(gguf.Path).Length, gguf.Bytes);
        var peft = Assert.Single(artefacts, a => a.Kind == "export-peft");
        Assert.Equal(64, peft.Sha256!.Length);
        Assert.Equal(Directory.GetFiles(peft.Path).Sum(f => new FileInfo(f).Length), peft.Bytes);
        Assert.Single(artefacts, a => a.Kind == "evaluation");

        // Importing the run's folder afterwards (what `fta runs` does) duplicates nothing and keeps the hashes.
        var counts = (reader.Metrics(request.RunId).Count, artefacts.Count, reader.Evaluations(request.RunId).Count);
        Assert.Equal(1, history.ImportRunFolders(_harness.Store).Imported);
        Assert.Equal(counts, (reader.Metrics(request.RunId).Count, reader.Artefacts(request.RunId).Count, reader.Evaluations(request.RunId).Count));
        var again = reader.GetRun(request.RunId);
        Assert.Equal((run.ModelHash, run.DatasetHash), (again.ModelHash, again.DatasetHash));
        Assert.NotNull(again.Hardware);
    }

    [Fact]
    public async Task ARetriedThenResumedRun_HasEachStepOnce_AndItsRetry()
    {
        var history = _harness.RecordHistory();
        // A checkpoint every 2 steps: the out-of-memory at step 4 restarts from checkpoint-2 and repeats step 3,
        // the divergence at step 4 of that attempt fails the run with step 3 logged twice over, and the resume
        // repeats step 3 again from checkpoint-2. Each repeat must replace the rows after the checkpoint.
        var request = _harness.Request("lora");
        request = request with { Options = request.Options with { SaveSteps = 2 } };
        var attempts = 0;
        var oomThenDiverge = _harness.Job((trainer, _) =>
        {
            var attempt = Interlocked.Increment(ref attempts);
            trainer.BeforeMicroBatch = step =>
            {
                if (step == 4 && attempt == 1)
                    throw new TorchOutOfMemoryException("injected: CPU out of memory");
                if (step == 4)
                    throw new TrainingDivergedException(step, double.NaN);
            };
        });
        var (first, _, _) = await _harness.Run(oomThenDiverge, request);
        Assert.IsType<JobFailed>(first);
        using var reader = history.OpenReader();
        var failed = reader.GetRun(request.RunId);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("step 4", failed.Error);
        Assert.Equal([1, 2, 3], reader.Metrics(request.RunId, HistoryMetricKind.Train).Select(m => m.Step));

        var (outcome, _, _) = await _harness.Run(_harness.Job(), StartRun.Resume(request.RunId));
        Assert.IsType<JobCompleted>(outcome);
        var run = reader.GetRun(request.RunId);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Null(run.Error);
        Assert.Equal([1, 2, 3, 4], reader.Metrics(request.RunId, HistoryMetricKind.Train).Select(m => m.Step));
        var retry = Assert.Single(reader.Metrics(request.RunId, HistoryMetricKind.Retry));
        Assert.Equal(4, retry.Step);
        Assert.Equal(1, reader.Stats(request.RunId).Retries);
        // The same as the run's own metrics.jsonl.
        Assert.Equal(_harness.Store.Metrics(request.RunId).Where(m => (string?)m["event"] == "step").Select(m => (double)m["loss"]!),
            reader.Metrics(request.RunId, HistoryMetricKind.Train).Select(m => m.Loss!.Value));
    }

    [Fact]
    public async Task AMalformedDataset_IsRecordedFailed_WithTheFileAndLine()
    {
        var history = _harness.RecordHistory();
        var bad = Path.Combine(_harness.Folder, "bad.jsonl");
        Directory.CreateDirectory(_harness.Folder);
        File.WriteAllLines(bad, ["{\"instruction\": \"a\", \"output\": \"b\"}", "{\"instruction\": "]);
        var request = _harness.Request("lora") with { Datasets = [bad] };
        var (outcome, _, _) = await _harness.Run(_harness.Job(), request);

        Assert.IsType<JobFailed>(outcome);
        using var reader = history.OpenReader();
        var run = reader.GetRun(request.RunId);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("bad.jsonl:2", run.Error);
        Assert.Null(run.DatasetHash);
        Assert.NotNull(run.ModelHash);
        Assert.Empty(reader.Metrics(request.RunId));
    }

    [Fact]
    public async Task ACancelledRun_IsRecordedCancelled()
    {
        var history = _harness.RecordHistory();
        var request = _harness.Request("lora");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var (outcome, _, _) = await _harness.Run(_harness.Job(), request, cancel.Token);

        Assert.IsType<JobCancelled>(outcome);
        using var reader = history.OpenReader();
        var run = reader.GetRun(request.RunId);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal("cancelled", run.Error);
    }
}
