using System.Collections.Concurrent;
using FineTuneAgent.Actors;
using FineTuneAgent.Agent.Jobs;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Agent.Tests;

/// <summary>
/// AgentRoot → JobSupervisor → its stages over real trainings (the built-in tiny Qwen3 with LoRA, 8 rows,
/// a handful of steps), with failures injected through <see cref="TrainingJob"/>'s trainer hook.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class JobSupervisorTests : IDisposable
{
    private static readonly TimeSpan Patience = JobHarness.Patience;
    private readonly JobHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private RunStore Store => _harness.Store;

    private TrainingJob Job(Action<Trainer, CancellationToken>? hook) => _harness.Job(hook);

    private TrainRequest Request() => _harness.Request();

    private Task<(JobOutcome Outcome, List<TrainingEvent> Events, IActorRef Root)> Run(TrainingJob job, TrainRequest request,
        CancellationToken cancellation = default) => _harness.Run(job, request, cancellation);

    [Fact]
    public async Task OutOfMemory_OnTheFirstAttempt_RestartsFromTheLastCheckpoint_WithHalfTheMicroBatch_AndCompletes()
    {
        var attempts = 0;
        var failed = false;
        var microBatchesPerStep = new ConcurrentDictionary<int, int>();
        var job = Job((trainer, _) =>
        {
            var attempt = Interlocked.Increment(ref attempts);
            trainer.BeforeMicroBatch = step =>
            {
                if (attempt == 2)
                    microBatchesPerStep.AddOrUpdate(step, 1, (_, n) => n + 1);
                if (step == 3 && !failed)
                {
                    failed = true;
                    throw new TorchOutOfMemoryException("injected: CPU out of memory");
                }
            };
        });
        var request = Request();
        var (outcome, events, root) = await Run(job, request);

        var completed = Assert.IsType<JobCompleted>(outcome);
        Assert.Equal(4, completed.Summary.Steps);
        Assert.Equal(2, attempts);
        var retry = Assert.Single(events.OfType<TrainingRetried>());
        Assert.Equal((3, 2, 2, 2), (retry.FailedStep, retry.FromStep, retry.MicroBatchSize, retry.GradientAccumulationSteps));
        Assert.EndsWith("checkpoint-2", retry.Checkpoint);
        // The retry ran steps 3 and 4 only, each in two micro-batches of 2 (the same effective batch of 4).
        Assert.Equal([3, 4], microBatchesPerStep.Keys.Order());
        Assert.All(microBatchesPerStep.Values, n => Assert.Equal(2, n));

        var record = Store.Get(request.RunId);
        Assert.Equal(RunStatus.Completed, record.Status);
        var recorded = Assert.Single(record.Retries);
        Assert.Equal(3, (int)recorded["failed_step"]!);
        Assert.Equal(2, (int)record.Config["training"]!["per_device_train_batch_size"]!);
        Assert.Equal(2, (int)record.Config["training"]!["gradient_accumulation_steps"]!);
        var metrics = Store.Metrics(request.RunId);
        Assert.Single(metrics, m => (string?)m["event"] == "retry");
        Assert.Equal([1, 2, 3, 4], metrics.Where(m => (string?)m["event"] == "step").Select(m => (int)m["step"]!));

        var status = await root.Ask<RunStatusReport>(new GetRunStatus(request.RunId), Patience);
        Assert.Equal((RunStatus?)RunStatus.Completed, status.Status);
        Assert.Equal(1, status.Retries);
    }

    [Fact]
    public async Task OutOfMemory_EveryTime_FailsAfterTheBoundedRetries()
    {
        var attempts = 0;
        var job = Job((trainer, _) =>
        {
            Interlocked.Increment(ref attempts);
            trainer.BeforeMicroBatch = step =>
            {
                if (step == 2)
                    throw new TorchOutOfMemoryException("injected: CPU out of memory");
            };
        });
        var request = Request();
        var (outcome, events, _) = await Run(job, request);

        // 4 → 2 → 1: two retries, then the micro-batch cannot shrink.
        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.Equal(3, attempts);
        Assert.Equal(2, events.OfType<TrainingRetried>().Count());
        Assert.Contains("out of memory at step 2", failed.Reason);
        var record = Store.Get(request.RunId);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Equal(2, record.Retries.Count);
    }

    [Fact]
    public async Task Diverged_StopsTheRunFailed_WithTheStep_AndNoRestart()
    {
        var attempts = 0;
        var job = Job((trainer, _) =>
        {
            Interlocked.Increment(ref attempts);
            trainer.BeforeMicroBatch = step =>
            {
                if (step == 3)
                    throw new TrainingDivergedException(step, double.NaN);
            };
        });
        var request = Request();
        var (outcome, events, _) = await Run(job, request);

        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.IsType<TrainingDivergedException>(failed.Cause);
        Assert.Contains("step 3", failed.Reason);
        Assert.Equal(1, attempts);
        Assert.Empty(events.OfType<TrainingRetried>());
        var record = Store.Get(request.RunId);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Contains("step 3", record.Error);
        Assert.Empty(record.Retries);
        Assert.EndsWith("checkpoint-2", CheckpointFolder.Latest(request.OutputDirectory));
    }

    [Fact]
    public async Task AnUnexpectedException_FailsTheRun_WithTheReason()
    {
        var job = Job((trainer, _) => trainer.BeforeMicroBatch = step =>
        {
            if (step == 2)
                throw new InvalidOperationException("injected: something unexpected");
        });
        var request = Request();
        var (outcome, _, _) = await Run(job, request);

        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.Contains("injected: something unexpected", failed.Reason);
        var record = Store.Get(request.RunId);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Contains("injected: something unexpected", record.Error);
    }

    [Fact]
    public async Task Cancel_StopsWithACheckpoint_AndTheRunIsCancelled()
    {
        // The caller cancels once step 3 has begun, and step 3 waits until the cancel has come through the
        // actors to the trainer, so the run stops right after step 3 whatever the timing.
        var stepThree = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = Job((trainer, cancellation) => trainer.BeforeMicroBatch = step =>
        {
            if (step == 3)
            {
                stepThree.TrySetResult();
                cancellation.WaitHandle.WaitOne(Patience);
            }
        });
        var request = Request() with { Options = Request().Options with { MaxSteps = 20, SaveSteps = 100 } };
        using var cancel = new CancellationTokenSource();
        _ = stepThree.Task.ContinueWith(_ => cancel.Cancel(), TaskScheduler.Default);
        var (outcome, events, _) = await Run(job, request, cancel.Token);

        var cancelled = Assert.IsType<JobCancelled>(outcome);
        Assert.EndsWith("checkpoint-3", cancelled.Checkpoint);
        Assert.True(CheckpointFolder.IsCheckpoint(cancelled.Checkpoint!));
        Assert.Equal(3, events.OfType<StepCompleted>().Max(s => s.Step));
        Assert.Equal(RunStatus.Cancelled, Store.Get(request.RunId).Status);
    }

    [Fact]
    public async Task ResumeOfAnUnknownRun_FailsWithTheReason_NotAHang()
    {
        var (outcome, _, _) = await _harness.Run(Job(null), StartRun.Resume("no-such-run"));
        var failed = Assert.IsType<JobFailed>(outcome);
        Assert.IsType<KeyNotFoundException>(failed.Cause);
        Assert.Contains("no-such-run", failed.Reason);
    }
}
