using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Torch;
using Xunit.Abstractions;

namespace FineTuneAgent.Console.Tests;

/// <summary>
/// `fta worker` as data-parallel replicas in separate processes over Gloo on loopback, against `fta worker --world 1`
/// (no store, no group: the trainer alone) on the same run configuration: the built-in tiny Qwen3 on 12 short
/// rows (2 more held out), the same global batch.
/// </summary>
/// <remarks>
/// Tolerance: rtol 1e-5, atol 1e-6 on every saved tensor. The two runs see the same rows per step but not in the same
/// micro-batches (a replica runs rows 0 and 2 of a step where the single process runs 0, 1 and then 2, 3), so the
/// padding, matmul shapes and summation order differ and float32 rounding (~6e-8 relative per operation) differs;
/// a handful of AdamW steps keeps that far below 1e-5. A wrong normalisation (averaging the summed gradients, or
/// dividing by the local token count) or a wrong share of rows changes the parameters by 1e-4 and more.
/// </remarks>
public sealed class WorkerCommandTests : IClassFixture<WorkerCommandTests.Runs>
{
    /// <summary>`fta worker`'s exit code when the process group failed (WorkerCommand.GroupFailedExitCode).</summary>
    private const int GroupFailed = 3;
    private static readonly TimeSpan GroupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);
    private const double Rtol = 1e-5;
    private const double Atol = 1e-6;

    private readonly Runs _runs;
    private readonly ITestOutputHelper _output;

    public WorkerCommandTests(Runs runs, ITestOutputHelper output)
    {
        _runs = runs;
        _output = output;
    }

    [Fact]
    public void TwoWorkers_Lora_TakeTheSingleProcessSteps_AndOnlyRankZeroWrites()
    {
        var reference = _runs.Reference("lora");
        var (rank0, rank1) = _runs.Config("lora", "two");
        var port = WorkerProcess.FreePort();
        using var w0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, GroupTimeout);
        using var w1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, GroupTimeout);
        Assert.True(w0.WaitForExit(Limit) == 0, w0.Describe());
        Assert.True(w1.WaitForExit(Limit) == 0, w1.Describe());

        AssertSameSteps(reference.Events, w0.Events, exact: true);
        AssertSameTensors(reference.Output, rank0.Output, "adapter_model.safetensors", exact: true);
        AssertReplicasInSync(w0, steps: Runs.LoraSteps);
        Assert.Contains(w0.EventsNamed("message"), m => Text(m).Contains("in 1 bucket(s)", StringComparison.Ordinal));

        // Rank 0 wrote the checkpoints, the best adapter and the final adapter, and recorded the run.
        Assert.Equal(["checkpoint-2", "checkpoint-4", "checkpoint-6"], CheckpointFolder.List(rank0.Output).Select(c => Path.GetFileName(c.Path)));
        Assert.True(File.Exists(Path.Combine(rank0.Output, Trainer.BestFolderName, "adapter_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(rank0.RunsDir, rank0.RunId, RunStore.RecordFileName)));
        Assert.Equal(Runs.LoraSteps, File.ReadAllLines(Path.Combine(rank0.RunsDir, rank0.RunId, RunStore.MetricsFileName)).Count(l => l.Contains("\"event\":\"step\"", StringComparison.Ordinal)));
        // Rank 1's configuration names its own output folder, so anything it wrote would be there: it wrote nothing,
        // reported no step, evaluation or checkpoint, and recorded no run.
        Assert.False(Directory.Exists(rank1.Output), $"rank 1 wrote into {rank1.Output}");
        Assert.DoesNotContain(w1.Events, e => Name(e) is "step" or "eval" or "checkpoint");
        Assert.False(File.Exists(Path.Combine(rank1.RunsDir, rank1.RunId, RunStore.RecordFileName)));
        Assert.Equal(Runs.LoraSteps, w1.EventsNamed("summary").Single().GetProperty("steps").GetInt32());
    }

    [Fact]
    public void TwoWorkers_Full_GlobalBatchOfThree_TakeTheSingleProcessSteps()
    {
        // 3 rows per step over 2 replicas: rank 0 runs 2, rank 1 runs 1 (nothing padded or repeated). The embedding
        // alone (151,936 x 64 floats, 37 MiB) is above the 25 MiB bucket cap, so the gradients travel in 2 buckets.
        var reference = _runs.Reference("full");
        var (rank0, rank1) = _runs.Config("full", "two");
        var port = WorkerProcess.FreePort();
        using var w0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, GroupTimeout);
        using var w1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, GroupTimeout);
        Assert.True(w0.WaitForExit(Limit) == 0, w0.Describe());
        Assert.True(w1.WaitForExit(Limit) == 0, w1.Describe());

        AssertSameSteps(reference.Events, w0.Events, exact: false);
        AssertSameTensors(reference.Output, rank0.Output, "model.safetensors", exact: false);
        AssertReplicasInSync(w0, steps: Runs.FullSteps);
        Assert.Contains(w0.EventsNamed("message"), m => Text(m).Contains("in 2 bucket(s)", StringComparison.Ordinal));
        Assert.False(Directory.Exists(rank1.Output), $"rank 1 wrote into {rank1.Output}");
    }

    [Fact]
    public void KilledWorker_FailsThePeersCollectiveWithinTheTimeout_AndARestartFromTheCheckpointFinishesTheSame()
    {
        var reference = _runs.Reference("lora");
        var (rank0, rank1) = _runs.Config("lora", "killed");
        var port = WorkerProcess.FreePort();
        double secondsToFail;
        using (var w0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, GroupTimeout))
        using (var w1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, GroupTimeout))
        {
            w0.WaitFor(e => Name(e) == "checkpoint" && e.GetProperty("step").GetInt32() == 2, Limit);
            w1.Kill();
            var clock = Stopwatch.StartNew();
            var code = w0.WaitForExit(GroupTimeout + TimeSpan.FromSeconds(30));
            secondsToFail = clock.Elapsed.TotalSeconds;
            _output.WriteLine($"rank 0 exited {code} {secondsToFail:F1} s after rank 1 was killed:\n{w0.Stderr}");
            Assert.True(code == GroupFailed, w0.Describe());
            Assert.Contains("the process group failed", w0.Stderr, StringComparison.Ordinal);
            Assert.Contains("gloo rank 0 of 2", w0.Stderr, StringComparison.Ordinal);
            Assert.Contains("--resume", w0.Stderr, StringComparison.Ordinal);
            Assert.True(secondsToFail < GroupTimeout.TotalSeconds, $"rank 0 took {secondsToFail:F1} s to notice");
        }
        Assert.Equal(("failed", true), RunStatus(rank0, e => e?.Contains("a data-parallel peer was lost", StringComparison.Ordinal) == true));
        var checkpoint = CheckpointFolder.Latest(rank0.Output)!;
        Assert.NotNull(checkpoint);
        var resumedFrom = TrainerState.Read(checkpoint).GlobalStep;
        Assert.InRange(resumedFrom, 2, Runs.LoraSteps - 1);

        // Both restart from rank 0's checkpoint (rank 1 has none of its own) on a new store.
        port = WorkerProcess.FreePort();
        using var r0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, GroupTimeout, resume: rank0.Output);
        using var r1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, GroupTimeout, resume: rank0.Output);
        Assert.True(r0.WaitForExit(Limit) == 0, r0.Describe());
        Assert.True(r1.WaitForExit(Limit) == 0, r1.Describe());

        var resumedSteps = r0.EventsNamed("step");
        Assert.Equal(Enumerable.Range(resumedFrom + 1, Runs.LoraSteps - resumedFrom), resumedSteps.Select(s => s.GetProperty("step").GetInt32()));
        AssertSameSteps(reference.Events.Where(e => Name(e) != "step" || e.GetProperty("step").GetInt32() > resumedFrom)
            .Where(e => Name(e) != "eval" || e.GetProperty("step").GetInt32() > resumedFrom).ToList(), r0.Events, exact: true);
        AssertSameTensors(reference.Output, rank0.Output, "adapter_model.safetensors", exact: true);
        AssertReplicasInSync(r0, steps: Runs.LoraSteps);
        Assert.False(Directory.Exists(rank1.Output), $"rank 1 wrote into {rank1.Output}");
        Assert.Equal(("completed", true), RunStatus(rank0, e => e is null));
    }

    [Fact]
    public void StoppedWorker_FailsThePeersCollectiveAfterTheTimeout_NotAHang()
    {
        // SIGSTOP: the peer keeps its sockets open but never answers, as a hung machine would. Only the timeout ends it.
        var timeout = TimeSpan.FromSeconds(30);
        var (rank0, rank1) = _runs.Config("lora", "stopped");
        var port = WorkerProcess.FreePort();
        using var w0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, timeout);
        using var w1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, timeout);
        w0.WaitFor(e => Name(e) == "checkpoint" && e.GetProperty("step").GetInt32() == 2, Limit);
        Signal("STOP", w1.Id);
        var clock = Stopwatch.StartNew();
        var code = w0.WaitForExit(timeout + TimeSpan.FromSeconds(60));
        var seconds = clock.Elapsed.TotalSeconds;
        _output.WriteLine($"rank 0 exited {code} {seconds:F1} s after rank 1 was stopped:\n{w0.Stderr}");
        Assert.True(code == GroupFailed, w0.Describe());
        Assert.Contains("the process group failed", w0.Stderr, StringComparison.Ordinal);
        Assert.InRange(seconds, timeout.TotalSeconds * 0.5, timeout.TotalSeconds + 30);
        w1.Kill();
    }

    [Fact]
    public void Workers_WithDifferentOptions_AllFailNamingTheDifference()
    {
        var (rank0, _) = _runs.Config("lora", "mismatch");
        var rank1 = _runs.Config("lora", "mismatch-r1", options => options with { LearningRate = 1e-3 }).Rank0;
        var port = WorkerProcess.FreePort();
        using var w0 = WorkerProcess.Start(port, 0, 2, rank0.File, rank0.RunsDir, GroupTimeout);
        using var w1 = WorkerProcess.Start(port, 1, 2, rank1.File, rank1.RunsDir, GroupTimeout);
        Assert.Equal(1, w0.WaitForExit(Limit));
        Assert.Equal(1, w1.WaitForExit(Limit));
        foreach (var w in new[] { w0, w1 })
        {
            Assert.Contains("the 2 data-parallel replicas are not training the same run", w.Stderr, StringComparison.Ordinal);
            Assert.Contains("training_options_sha256: rank 0 has", w.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("train_rows", w.Stderr, StringComparison.Ordinal);
        }
        Assert.Empty(w0.EventsNamed("step"));
        Assert.False(Directory.Exists(rank0.Output));
    }

    [Fact]
    public void DeviceCpu_TakesTheSameStepsAsTheDefault()
    {
        var reference = _runs.Reference("lora");
        var cpu = _runs.Config("lora", "device-cpu", options => options with { Device = "cpu" }).Rank0;
        using var w = WorkerProcess.Start(WorkerProcess.FreePort(), 0, 1, cpu.File, cpu.RunsDir, GroupTimeout);
        Assert.True(w.WaitForExit(Limit) == 0, w.Describe());

        AssertSameSteps(reference.Events, w.Events, exact: true);
        AssertSameTensors(reference.Output, cpu.Output, "adapter_model.safetensors", exact: true);
        Assert.Contains(reference.Events, e => Name(e) == "message" && Text(e) == "device: training on cpu (device: auto)");
        Assert.Contains(w.EventsNamed("message"), m => Text(m) == "device: training on cpu");
        // The option survives into every checkpoint's run configuration, so a resume trains where the run did.
        Assert.All(CheckpointFolder.List(cpu.Output), c => Assert.Equal("cpu", TrainRequest.Read(Path.Combine(c.Path, TrainRequest.FileName)).Options.Device));
    }

    [Fact]
    public void DeviceCuda_WithoutACudaDevice_FailsBeforeTraining_AndRecordsWhy()
    {
        if (torch.cuda.is_available())
            return; // a GPU machine trains there; this machine has none
        var asked = _runs.Config("lora", "device-cuda", options => options with { Device = "cuda" }).Rank0;
        using var w = WorkerProcess.Start(WorkerProcess.FreePort(), 0, 1, asked.File, asked.RunsDir, GroupTimeout);
        Assert.Equal(1, w.WaitForExit(Limit));
        Assert.Contains("training option 'device': \"cuda\" asks for CUDA, but libtorch reports no CUDA device (CUDA build: no, CUDA devices: 0)", w.Stderr, StringComparison.Ordinal);
        Assert.Empty(w.EventsNamed("step"));
        Assert.False(Directory.Exists(asked.Output));
        Assert.Equal(("failed", true), RunStatus(asked, e => e?.Contains("no CUDA device", StringComparison.Ordinal) == true));
    }

    [Fact]
    public void DeviceFlag_OverridesTheRunsOption_AndABadValueIsRefused()
    {
        if (torch.cuda.is_available())
            return;
        var (rank0, rank1) = _runs.Config("lora", "device-flag");
        using (var w = WorkerProcess.Start(WorkerProcess.FreePort(), 0, 2, rank0.File, rank0.RunsDir, GroupTimeout, extraArgs: ["--device", "cuda", "--local-rank", "1"]))
        {
            // Fails on its own, before it serves a store or waits for rank 1.
            Assert.Equal(1, w.WaitForExit(Limit));
            Assert.Contains("training option 'device': \"cuda\" asks for CUDA, but libtorch reports no CUDA device", w.Stderr, StringComparison.Ordinal);
            Assert.Equal(("failed", true), RunStatus(rank0, e => e?.Contains("no CUDA device", StringComparison.Ordinal) == true));
        }
        using (var bad = WorkerProcess.Start(WorkerProcess.FreePort(), 1, 2, rank1.File, rank1.RunsDir, GroupTimeout, extraArgs: ["--device", "gpu"]))
        {
            Assert.Equal(1, bad.WaitForExit(Limit));
            Assert.Contains("--device must be auto, cpu, cuda or cuda:N, got 'gpu'", bad.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The same steps, losses, gradient norms and validation losses in the same order: equal (exact), or within rtol
    /// 1e-6 (losses) and 1e-5 (gradient norms).
    /// </summary>
    private void AssertSameSteps(IReadOnlyList<JsonElement> expected, IReadOnlyList<JsonElement> actual, bool exact)
    {
        foreach (var (kind, field, rtol) in new[] { ("step", "loss", 1e-6), ("step", "grad_norm", 1e-5), ("eval", "eval_loss", 1e-6) })
        {
            var want = expected.Where(e => Name(e) == kind).Select(e => (Step: e.GetProperty("step").GetInt32(), Value: e.GetProperty(field).GetDouble())).ToList();
            var got = actual.Where(e => Name(e) == kind).Select(e => (Step: e.GetProperty("step").GetInt32(), Value: e.GetProperty(field).GetDouble())).ToList();
            Assert.NotEmpty(want);
            Assert.Equal(want.Select(w => w.Step), got.Select(g => g.Step));
            for (var i = 0; i < want.Count; i++)
            {
                _output.WriteLine($"{kind} {want[i].Step} {field}: single {want[i].Value:R}, replicas {got[i].Value:R}");
                Assert.True(exact ? want[i].Value == got[i].Value : Math.Abs(want[i].Value - got[i].Value) <= rtol * Math.Abs(want[i].Value),
                    $"{kind} {want[i].Step} {field}: single {want[i].Value:R}, replicas {got[i].Value:R}");
            }
        }
    }

    /// <summary>
    /// Every tensor of the file in both folders equal (exact) or within rtol/atol, and the run did move them away from
    /// where its first checkpoint had them.
    /// </summary>
    private void AssertSameTensors(string expectedFolder, string actualFolder, string file, bool exact)
    {
        using var expected = new Tensors(Path.Combine(expectedFolder, file));
        using var actual = new Tensors(Path.Combine(actualFolder, file));
        Assert.Equal(expected.Map.Keys.Order(), actual.Map.Keys.Order());
        double worst = 0;
        long compared = 0;
        var outside = new List<string>();
        foreach (var (name, e) in expected.Map)
        {
            var want = e.ToArray<float>();
            var got = actual.Map[name].ToArray<float>();
            Assert.Equal(want.Length, got.Length);
            for (var i = 0; i < want.Length; i++)
            {
                var diff = Math.Abs((double)want[i] - got[i]);
                worst = Math.Max(worst, diff);
                if (exact ? want[i] != got[i] : diff > Atol + Rtol * Math.Abs(want[i]))
                    outside.Add($"{name}[{i}]: single {want[i]:R}, replicas {got[i]:R}");
            }
            compared += want.Length;
        }
        _output.WriteLine($"{file}: {expected.Map.Count} tensors, {compared:N0} values, largest difference {worst:G3}, {outside.Count} outside the tolerance");
        Assert.True(outside.Count == 0, $"{outside.Count} of {compared} values differ{(exact ? "" : $" by more than {Atol} + {Rtol}·|value|")}: " + string.Join("; ", outside.Take(10)));

        using var first = new Tensors(Path.Combine(CheckpointFolder.List(expectedFolder)[0].Path, file));
        Assert.Contains(expected.Map, kv => !kv.Value.equal(first.Map[kv.Key]));
    }

    /// <summary>Rank 0 reported that, after the last step, every replica's trainable parameters equal its own exactly.</summary>
    private static void AssertReplicasInSync(WorkerProcess rank0, int steps) =>
        Assert.Contains(rank0.EventsNamed("message"),
            m => Text(m) == $"data parallel: after step {steps} the trainable parameters of all 2 replicas equal rank 0's exactly");

    private static string Name(JsonElement e) => e.GetProperty("event").GetString()!;

    /// <summary>The status in rank 0's run record, and whether its error passes <paramref name="error"/>.</summary>
    private static (string Status, bool ErrorMatches) RunStatus(RankConfig rank0, Func<string?, bool> error)
    {
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(rank0.RunsDir, rank0.RunId, RunStore.RecordFileName)));
        var root = record.RootElement;
        var text = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        return (root.GetProperty("status").GetString()!, error(text));
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static string Text(JsonElement e) => e.GetProperty("text").GetString()!;

    /// <summary>A safetensors file's tensors, disposed together.</summary>
    private sealed class Tensors(string path) : IDisposable
    {
        public Dictionary<string, torch.Tensor> Map { get; } = Safetensors.Load(path);

        public void Dispose()
        {
            foreach (var t in Map.Values)
                t.Dispose();
        }
    }

    /// <summary>
    /// The data, run configurations and single-process reference runs the tests share (a reference is trained once,
    /// the first time a test asks for it), under one temporary folder.
    /// </summary>
    public sealed class Runs : IDisposable
    {
        public const int LoraSteps = 6;
        public const int FullSteps = 4;

        private readonly string _root = Path.Combine(Path.GetTempPath(), $"fta-ddp-{Guid.NewGuid():N}");
        private readonly Dictionary<string, Reference> _references = new();

        public Runs()
        {
            Directory.CreateDirectory(_root);
            // 14 short Alpaca rows: 12 train, 2 held out.
            var rows = Enumerable.Range(0, 14).Select(i => new JsonObject
            {
                ["instruction"] = $"Say the number {i} in words.",
                ["input"] = "",
                ["output"] = $"The number is {i}; " + string.Join(' ', Enumerable.Repeat("word", i % 5 + 1)),
            }.ToJsonString());
            DataFile = Path.Combine(_root, "data.jsonl");
            File.WriteAllLines(DataFile, rows);
        }

        public string DataFile { get; }

        /// <summary>The single-process run of a method (`fta worker --world 1`), trained on first use.</summary>
        public Reference Reference(string method)
        {
            lock (_references)
            {
                if (_references.TryGetValue(method, out var done))
                    return done;
                var (config, _) = Config(method, "single");
                using var w = WorkerProcess.Start(WorkerProcess.FreePort(), 0, 1, config.File, config.RunsDir, GroupTimeout);
                Assert.True(w.WaitForExit(Limit) == 0, w.Describe());
                return _references[method] = new Reference(config.Output, w.Events);
            }
        }

        /// <summary>
        /// A run configuration per rank for a method under a fresh folder <paramref name="name"/>: rank 0's and rank
        /// 1's differ only in their output folder and runs folder.
        /// </summary>
        public (RankConfig Rank0, RankConfig Rank1) Config(string method, string name, Func<TrainingOptions, TrainingOptions>? change = null)
        {
            var options = method == "lora"
                ? new TrainingOptions { LearningRate = 5e-3, MaxSteps = LoraSteps, PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 2 }
                : new TrainingOptions { LearningRate = 1e-3, MaxSteps = FullSteps, PerDeviceTrainBatchSize = 3, GradientAccumulationSteps = 1 };
            options = options with { LrSchedulerType = "cosine", WarmupSteps = 1, SaveSteps = 2, CutoffLen = 64, ValSize = 2, EvalSteps = 2, MaxGradNorm = 1.0 };
            options = change?.Invoke(options) ?? options;
            RankConfig Write(int rank)
            {
                var folder = Path.Combine(_root, $"{method}-{name}", $"rank{rank}");
                Directory.CreateDirectory(folder);
                var request = new TrainRequest
                {
                    RunId = $"ddp-{method}-{name}",
                    Datasets = [DataFile],
                    Method = method,
                    MethodSettings = method == "lora" ? new JsonObject { ["r"] = 8, ["lora_alpha"] = 16 } : null,
                    OutputDirectory = Path.Combine(folder, "output"),
                    Options = options,
                    Evaluation = new EvaluateAfterTraining { Enabled = false },
                };
                var file = Path.Combine(folder, TrainRequest.FileName);
                File.WriteAllText(file, request.ToJson().ToJsonString());
                // One runs folder per rank for every test: the built-in model and the dataset cache are prepared once.
                return new RankConfig(file, request.OutputDirectory, Path.Combine(_root, $"runs{rank}"), request.RunId);
            }
            return (Write(0), Write(1));
        }

        public void Dispose()
        {
            if (Directory.Exists(_root))
                Directory.Delete(_root, recursive: true);
        }
    }

    public sealed record Reference(string Output, IReadOnlyList<JsonElement> Events);

    public sealed record RankConfig(string File, string Output, string RunsDir, string RunId);
}
