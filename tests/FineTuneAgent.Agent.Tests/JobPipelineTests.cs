using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Agent.Tests;

/// <summary>
/// A run as a pipeline of stages, seen through the events its client gets: dataset, then the quantizer for QLoRA
/// only, then the trainer; a quantized base and a prepared dataset are reused, never redone (by a later run through
/// the caches, by an out-of-memory retry not at all); a bad dataset fails the run before any training.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class JobPipelineTests : IDisposable
{
    private readonly JobHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static int IndexOf<T>(List<TrainingEvent> events) => events.FindIndex(e => e is T);

    [Fact]
    public async Task Lora_RunsTheDatasetStage_ThenTheTrainer_WithoutAQuantizer()
    {
        var request = _harness.Request("lora");
        var (outcome, events, _) = await _harness.Run(_harness.Job(), request);

        Assert.IsType<JobCompleted>(outcome);
        Assert.Equal(["dataset", "trainer"], JobHarness.Stages(events));
        Assert.Empty(events.OfType<QuantizedBaseReady>());
        // The data is ready before the trainer starts, and the trainer starts before the first step.
        var dataset = Assert.Single(events.OfType<DatasetReady>());
        var trainerStarted = events.FindIndex(e => e is StageStarted { Stage: "trainer" });
        Assert.True(events.IndexOf(dataset) < trainerStarted);
        Assert.True(trainerStarted < IndexOf<StepCompleted>(events));
        Assert.All(events.OfType<StageProgressed>().Take(IndexOf<DatasetReady>(events)), p => Assert.Equal("dataset", p.Stage));
        var source = Assert.Single(dataset.Summary.Sources);
        Assert.Equal((8, 8, 0), (source.Rows, source.Kept, source.DroppedTotal));
        Assert.Equal(CacheOutcome.Miss, dataset.Cache);
        // The dataset's facts are in the run's metrics.
        Assert.Single(_harness.Store.Metrics(request.RunId), m => (string?)m["event"] == "dataset");
    }

    [Fact]
    public async Task AfterTraining_TheEvaluatorMeasuresTheHeldOutRows_ThenTheExporterWritesTheAskedFormats()
    {
        var request = _harness.Request("lora") with
        {
            Evaluation = new EvaluateAfterTraining { MaxSamples = 8, MaxNewTokens = 4 },
            Export = new ExportAfterTraining([Core.Export.ExportFormat.Peft, Core.Export.ExportFormat.GgufAdapter], null, "f16"),
        };
        request = request with { Options = request.Options with { ValSize = 2 } };
        var (outcome, events, _) = await _harness.Run(_harness.Job(), request);

        var completed = Assert.IsType<JobCompleted>(outcome);
        Assert.Equal(["dataset", "trainer", "evaluator", "exporter"], JobHarness.Stages(events));
        // The held-out file holds exactly the validation split: the trainer's last validation loss (final weights,
        // same rows) is what the evaluator measures for the tuned model it loads back from the saved adapter.
        var heldOut = File.ReadAllLines(Path.Combine(request.OutputDirectory, TrainingJob.HeldOutFileName));
        Assert.Equal(2, heldOut.Length);
        Assert.Equal(2, completed.Summary.ValidationRows);
        var evaluated = Assert.Single(events.OfType<EvaluationReady>());
        Assert.Equal(completed.Summary.LastValidationLoss!.Value, evaluated.TunedLoss!.Value, 4);
        Assert.NotEqual(evaluated.BaseLoss, evaluated.TunedLoss.Value, 3);
        Assert.Equal(2, evaluated.Prompts);
        Assert.True(File.Exists(evaluated.File));
        Assert.Equal(evaluated.File, _harness.Store.Get(request.RunId).EvaluationFile);

        var exported = events.OfType<ExportReady>().ToList();
        Assert.Equal(["peft", "gguf-adapter"], exported.Select(e => e.Format));
        Assert.True(File.Exists(Path.Combine(exported[0].Path, "adapter_model.safetensors")));
        Assert.True(File.Exists(exported[1].Path));
        Assert.Contains(events.OfType<StageProgressed>(), p => p.Stage == "exporter");
        Assert.Equal(RunStatus.Completed, _harness.Store.Get(request.RunId).Status);
    }

    [Fact]
    public async Task AnExportThatCannotBeMade_FailsTheRun_SayingTrainingCompletedAndWhere()
    {
        var request = _harness.Request("full") with
        {
            MethodSettings = null,
            Export = new ExportAfterTraining([Core.Export.ExportFormat.Peft], null, "f16"),
        };
        var (outcome, events, _) = await _harness.Run(_harness.Job(), request);

        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.Contains("has no PEFT adapter", failed.Reason);
        Assert.Contains($"training itself completed: its output is in {request.OutputDirectory}", failed.Reason);
        Assert.Equal(["dataset", "trainer", "exporter"], JobHarness.Stages(events)); // no rows held out: no evaluator
        Assert.Equal(RunStatus.Failed, _harness.Store.Get(request.RunId).Status);
    }

    [Fact]
    public async Task Qlora_RunsDatasetQuantizerTrainer_AndASecondRunReusesTheQuantizedBaseAndTheDataset()
    {
        var (outcome, events, _) = await _harness.Run(_harness.Job(), _harness.Request("qlora"));

        Assert.IsType<JobCompleted>(outcome);
        Assert.Equal(["dataset", "quantizer", "trainer"], JobHarness.Stages(events));
        Assert.True(IndexOf<DatasetReady>(events) < events.FindIndex(e => e is StageStarted { Stage: "quantizer" }));
        var quantized = Assert.Single(events.OfType<QuantizedBaseReady>());
        Assert.False(quantized.FromCache);
        Assert.Equal("nf4-b64-dq", quantized.Scheme);
        Assert.Equal(14, quantized.Tensors); // 2 layers x 7 projections
        var perTensor = events.OfType<StageProgressed>().Where(p => p.Stage == "quantizer").ToList();
        Assert.Equal(Enumerable.Range(1, 14), perTensor.Select(p => p.Done));
        Assert.All(perTensor, p => Assert.Equal(14, p.Total));
        Assert.All(perTensor, p => Assert.StartsWith("quantized model.layers.", p.Message));
        Assert.True(events.IndexOf(quantized) < events.FindIndex(e => e is StageStarted { Stage: "trainer" }));
        // The trainer read the base the quantizer stage left in the cache; it quantized nothing itself.
        Assert.Contains(events.OfType<JobMessage>(), m => m.Text.StartsWith($"model: base projections read quantized (nf4-b64-dq) from {quantized.CacheFile}", StringComparison.Ordinal));

        var (again, secondEvents, _) = await _harness.Run(_harness.Job(), _harness.Request("qlora"));

        Assert.IsType<JobCompleted>(again);
        Assert.Equal(["dataset", "quantizer", "trainer"], JobHarness.Stages(secondEvents));
        var reused = Assert.Single(secondEvents.OfType<QuantizedBaseReady>());
        Assert.True(reused.FromCache);
        Assert.Equal(quantized.CacheFile, reused.CacheFile);
        Assert.All(secondEvents.OfType<StageProgressed>().Where(p => p.Stage == "quantizer"), p => Assert.StartsWith("read ", p.Message));
        Assert.Equal(CacheOutcome.Hit, Assert.Single(secondEvents.OfType<DatasetReady>()).Cache);
    }

    [Fact]
    public async Task AMalformedDatasetLine_FailsTheRunWithFileAndLine_AndTheTrainerNeverStarts()
    {
        var request = _harness.Request("qlora");
        var bad = Path.Combine(_harness.Folder, "bad.jsonl");
        File.WriteAllText(bad, "{\"instruction\": \"hi\", \"output\": \"hello\"}\n{\"instruction\": \"oops\", \n");
        request = request with { Datasets = [bad] };
        var trainers = 0;
        var (outcome, events, _) = await _harness.Run(_harness.Job((_, _) => Interlocked.Increment(ref trainers)), request);

        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.IsType<DatasetException>(failed.Cause);
        Assert.Contains("bad.jsonl:2", failed.Reason);
        Assert.Equal(["dataset"], JobHarness.Stages(events));
        Assert.Empty(events.OfType<StepCompleted>());
        Assert.Equal(0, trainers);
        var record = _harness.Store.Get(request.RunId);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Contains("bad.jsonl:2", record.Error);
        Assert.False(Directory.Exists(request.OutputDirectory) && Directory.EnumerateFileSystemEntries(request.OutputDirectory).Any());
    }

    [Fact]
    public async Task OutOfMemory_RestartsTheTrainerOnly_OnTheSameDataAndQuantizedBase()
    {
        var failed = false;
        var job = _harness.Job((trainer, _) => trainer.BeforeMicroBatch = step =>
        {
            if (step == 2 && !failed)
            {
                failed = true;
                throw new TorchOutOfMemoryException("injected: CPU out of memory");
            }
        });
        var (outcome, events, _) = await _harness.Run(job, _harness.Request("qlora"));

        Assert.Equal(4, Assert.IsType<JobCompleted>(outcome).Summary.Steps);
        Assert.Equal(["dataset", "quantizer", "trainer", "trainer"], JobHarness.Stages(events));
        Assert.Single(events.OfType<DatasetReady>());
        Assert.Single(events.OfType<QuantizedBaseReady>());
        var retry = Assert.Single(events.OfType<TrainingRetried>());
        Assert.Equal((2, 1), (retry.FailedStep, retry.FromStep));
        // No dataset progress after the retry, and both trainer attempts read the base from the cache.
        Assert.DoesNotContain(events.Skip(events.IndexOf(retry)), e => e is StageProgressed or DatasetReady or QuantizedBaseReady);
        Assert.Equal(2, events.OfType<JobMessage>().Count(m => m.Text.StartsWith("model: base projections read quantized", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Resume_GoesThroughTheStages_AndFinishesTheRun()
    {
        var request = _harness.Request("lora");
        var diverge = _harness.Job((trainer, _) => trainer.BeforeMicroBatch = step =>
        {
            if (step == 3)
                throw new TrainingDivergedException(step, double.NaN);
        });
        var (first, _, _) = await _harness.Run(diverge, request);
        Assert.IsType<JobFailed>(first);

        var (outcome, events, _) = await _harness.Run(_harness.Job(), StartRun.Resume(request.RunId));

        Assert.Equal(4, Assert.IsType<JobCompleted>(outcome).Summary.Steps);
        Assert.Equal(["dataset", "trainer"], JobHarness.Stages(events));
        Assert.Contains(events.OfType<JobMessage>(), m => m.Text.EndsWith($"resuming from {Path.Combine(request.OutputDirectory, "checkpoint-2")}", StringComparison.Ordinal));
        Assert.Equal([3, 4], events.OfType<StepCompleted>().Select(s => s.Step));
        Assert.Equal(RunStatus.Completed, _harness.Store.Get(request.RunId).Status);
    }

    [Fact]
    public async Task CancelledWhilePreparing_EndsCancelled_BeforeTheTrainer_WithNothingToResume()
    {
        // The cancel reaches the supervisor while it plans the run (loading the tokenizer takes far longer than a
        // message); should the dataset stage have started by then, it is stopped there: either way, no training.
        var request = _harness.Request("lora");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var (outcome, events, _) = await _harness.Run(_harness.Job(), request, cancel.Token);

        var cancelled = Assert.IsType<JobCancelled>(outcome);
        Assert.Null(cancelled.Checkpoint);
        Assert.DoesNotContain("trainer", JobHarness.Stages(events));
        Assert.Empty(events.OfType<StepCompleted>());
        Assert.Equal(RunStatus.Cancelled, _harness.Store.Get(request.RunId).Status);
    }
}
