using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Recommendation;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using Spectre.Console;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta bench ddp`: what data-parallel training costs on this machine. Three measurements: the gradient bytes each
/// replica all-reduces per step for LoRA and Full (counted on the built-in tiny Qwen3, computed for Qwen3-0.6B from
/// its shape); the all-reduce bandwidth of two processes over Gloo on loopback; and the step time of `fta worker`
/// with one worker on every core against two workers on one core each, the same global batch.
/// </summary>
internal static class DdpBenchCommand
{
    /// <summary>1 Gb/s Ethernet's payload rate at best, for the computed column.</summary>
    private const double GigabitMiBPerSecond = 1e9 / 8 / (1024 * 1024);

    private static readonly (string Label, string Method, JsonObject? Settings)[] Methods =
    [
        ("LoRA r16", "lora", new JsonObject { ["r"] = 16 }),
        ("Full", "full", null),
    ];

    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Training steps per step-time run (the first two are not timed).", DefaultValueFactory = _ => 8 };
        var skipSteps = new Option<bool>("--no-step-time") { Description = "Measure traffic and bandwidth only." };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var peer = new Option<int?>("--peer") { Description = "Internal: be rank 1 of the all-reduce measurement whose store listens on this port.", Hidden = true };
        var command = new Command("ddp", "Data-parallel costs: gradient bytes per step (LoRA vs Full), all-reduce bandwidth, step time with 1 and 2 workers.")
        {
            steps, skipSteps, json, peer,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(peer) is { } port)
            {
                AllReduceBench.Peer(port);
                return 0;
            }
            var n = parse.GetValue(steps);
            if (n < 3)
                throw new ArgumentException($"--steps must be at least 3 (two untimed), got {n}");
            return RunAll(n, !parse.GetValue(skipSteps), parse.GetValue(json));
        });
        return command;
    }

    private static int RunAll(int steps, bool stepTimes, bool json)
    {
        var console = Terminal.Create();
        var traffic = Traffic();
        var bandwidth = AllReduceBench.Measure();
        var timing = stepTimes ? StepTimes(steps) : [];
        var loopback = bandwidth[^1].MiBPerSecond;
        if (json)
        {
            System.Console.WriteLine(new JsonObject
            {
                ["threads"] = get_num_threads(),
                ["traffic"] = new JsonArray(traffic.Select(t => (JsonNode)new JsonObject
                {
                    ["model"] = t.Model, ["method"] = t.Method, ["trainable"] = t.Trainable, ["gradient_mib"] = t.GradientMiB, ["buckets"] = t.Buckets,
                }).ToArray()),
                ["allreduce"] = new JsonArray(bandwidth.Select(b => (JsonNode)new JsonObject
                {
                    ["mib"] = b.MiB, ["repeats"] = b.Repeats, ["median_seconds"] = b.MedianSeconds, ["mib_per_second"] = b.MiBPerSecond,
                }).ToArray()),
                ["step_time"] = new JsonArray(timing.Select(t => (JsonNode)new JsonObject
                {
                    ["method"] = t.Method, ["workers"] = t.Workers, ["threads_per_worker"] = t.ThreadsPerWorker, ["global_batch"] = t.GlobalBatch,
                    ["step_seconds"] = t.StepSeconds, ["tokens_per_second"] = t.TokensPerSecond, ["steps_timed"] = t.StepsTimed,
                }).ToArray()),
            }.ToJsonString());
            return 0;
        }
        var bytes = new Table().AddColumns("Model", "Method", "Trainable", "Gradient MiB/step (fp32)", "Buckets (25 MiB)", "At loopback's rate (s)", "At 1 Gb/s (s, computed)");
        foreach (var t in traffic)
            bytes.AddRow(t.Model, t.Method, t.Trainable.ToString("N0", CultureInfo.InvariantCulture), F(t.GradientMiB, "F2"), t.Buckets?.ToString(CultureInfo.InvariantCulture) ?? "-",
                F(t.GradientMiB / loopback, "F4"), F(t.GradientMiB / GigabitMiBPerSecond, "F3"));
        console.MarkupLine("[bold]Gradient bytes every replica all-reduces per step[/] (tiny: counted on the adapted model; 0.6B: the method's parameter count for Qwen3-0.6B's shape; bf16 gradients would halve Full's)");
        console.Write(bytes);
        var allReduce = new Table().AddColumns("Buffer (MiB)", "All-reduces timed", "Median (ms)", "MiB/s");
        foreach (var b in bandwidth)
            allReduce.AddRow(b.MiB.ToString(CultureInfo.InvariantCulture), b.Repeats.ToString(CultureInfo.InvariantCulture), F(b.MedianSeconds * 1000, "F2"), F(b.MiBPerSecond, "F0"));
        console.MarkupLine("[bold]All-reduce (sum, float32) of 2 processes over Gloo on loopback[/] (buffer MiB / median seconds; with 2 ranks the bus bandwidth is the same number)");
        console.Write(allReduce);
        if (timing.Count > 0)
        {
            var table = new Table().AddColumns("Method", "Workers x threads", "Global batch", "Step (s)", "Tokens/s (run average)", "Steps timed");
            foreach (var t in timing)
                table.AddRow(t.Method, $"{t.Workers} x {t.ThreadsPerWorker}", t.GlobalBatch.ToString(CultureInfo.InvariantCulture), F(t.StepSeconds, "F3"), F(t.TokensPerSecond, "F0"), t.StepsTimed.ToString(CultureInfo.InvariantCulture));
            console.MarkupLine("[bold]fta worker step time[/], built-in tiny Qwen3, the same global batch: 1 worker on every core vs 2 workers on one core each (loopback)");
            console.Write(table);
        }
        return 0;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Buckets is counted on a model that was built; null for a shape only computed.</summary>
    public sealed record TrafficRow(string Model, string Method, long Trainable, double GradientMiB, int? Buckets);

    /// <summary>Gradient bytes per step: counted on the adapted built-in tiny model, and from each method's parameter count for Qwen3-0.6B.</summary>
    private static List<TrafficRow> Traffic()
    {
        using var host = PluginHost.Load();
        var template = host.TemplateNamed("qwen3");
        var tiny = ModelConfigReader.Parse(template.BuiltInConfig("tiny"), "built-in qwen3 tiny");
        var reference = ReferenceModels.Config("0.6B", "qwen3");
        var rows = new List<TrafficRow>();
        const double mib = 1024.0 * 1024.0;
        foreach (var (label, name, settingsJson) in Methods)
        {
            var method = host.Method(name);
            var settings = method.ParseSettings(settingsJson?.DeepClone().AsObject());
            manual_seed(0);
            using (var model = template.BuildModel(tiny, ScalarType.Float32, initialize: true))
            {
                var trainable = method.Adapt(model, template, settings).TrainableParameters.Select(p => (Tensor)p.Parameter).ToList();
                var buckets = new GradientBuckets(trainable, DataParallel.DefaultBucketCapMegabytes * 1024L * 1024L);
                var estimated = method.EstimateMemory(tiny, new TrainingShape(), settings).TrainableParameters;
                var counted = trainable.Sum(p => p.numel());
                if (estimated != counted)
                    throw new InvalidOperationException($"{label} on the tiny model: the estimator counts {estimated:N0} trainable parameters, the adapted model has {counted:N0}");
                rows.Add(new TrafficRow("qwen3 tiny (built-in)", label, counted, buckets.TotalBytes / mib, buckets.Buckets.Count));
            }
            var count = method.EstimateMemory(reference, new TrainingShape(), settings).TrainableParameters;
            rows.Add(new TrafficRow("Qwen3-0.6B (computed)", label, count, count * 4 / mib, null));
        }
        return rows;
    }

    public sealed record StepTimeRow(string Method, int Workers, int ThreadsPerWorker, int GlobalBatch, double StepSeconds, double TokensPerSecond, int StepsTimed);

    /// <summary>`fta worker` runs of each method on the built-in tiny model: one worker with every core, then two with one core each.</summary>
    private static List<StepTimeRow> StepTimes(int steps)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"fta-bench-ddp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var data = Path.Combine(folder, "data.jsonl");
            File.WriteAllLines(data, Enumerable.Range(0, 64).Select(i => new JsonObject
            {
                ["instruction"] = $"Describe item {i} of the inventory.",
                ["input"] = "",
                ["output"] = string.Join(' ', Enumerable.Range(0, 30 + i % 20).Select(w => $"w{(w * 7 + i) % 50}")),
            }.ToJsonString()));
            var options = new TrainingOptions
            {
                LearningRate = 1e-4, MaxSteps = steps, PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 2, CutoffLen = 128,
                LrSchedulerType = "constant", WarmupRatio = 0, SaveSteps = 100_000,
            };
            var cores = Environment.ProcessorCount;
            var rows = new List<StepTimeRow>();
            foreach (var (label, method, settings) in Methods)
                foreach (var workers in new[] { 1, 2 })
                {
                    var id = $"bench-{method}-{workers}";
                    var config = Path.Combine(folder, id + ".json");
                    File.WriteAllText(config, new TrainRequest
                    {
                        RunId = id, Datasets = [data], Method = method, MethodSettings = settings?.DeepClone().AsObject(),
                        OutputDirectory = Path.Combine(folder, id), Options = options, Evaluation = new EvaluateAfterTraining { Enabled = false },
                    }.ToJson().ToJsonString());
                    var threads = Math.Max(1, cores / workers);
                    var events = RunWorkers(config, Path.Combine(folder, "runs"), workers, threads);
                    var stepEvents = events.Where(e => (string?)e["event"] == "step").ToList();
                    var first = stepEvents.Single(e => (int)e["step"]! == 2);
                    var last = stepEvents[^1];
                    var timed = (int)last["step"]! - 2;
                    var seconds = ((double)last["elapsed_seconds"]! - (double)first["elapsed_seconds"]!) / timed;
                    rows.Add(new StepTimeRow(label, workers, threads, options.EffectiveBatchSize, seconds, (double)last["tokens_per_second"]!, timed));
                }
            return rows;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Starts the workers of one run on a free port, waits for all of them and returns rank 0's events.</summary>
    private static List<JsonObject> RunWorkers(string config, string runsDir, int workers, int threads)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var environment = new Dictionary<string, string> { ["FTA_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture) };
        var processes = Enumerable.Range(0, workers).Select(rank => BenchProcess.StartSelf(
        [
            "worker", "--store", $"127.0.0.1:{port}", "--rank", rank.ToString(CultureInfo.InvariantCulture), "--world", workers.ToString(CultureInfo.InvariantCulture),
            "--run-config", config, "--runs-dir", runsDir, "--json", "--timeout", "300",
        ], environment)).ToList();
        try
        {
            var outputs = processes.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
            for (var r = 0; r < workers; r++)
            {
                processes[r].WaitForExit();
                if (processes[r].ExitCode != 0)
                    throw new InvalidOperationException($"worker {r} of {workers} failed ({processes[r].ExitCode}): {outputs[r].Err.Result}");
            }
            return outputs[0].Out.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonNode.Parse(l)?.AsObject()).OfType<JsonObject>().ToList();
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
                p.Dispose();
            }
        }
    }
}
