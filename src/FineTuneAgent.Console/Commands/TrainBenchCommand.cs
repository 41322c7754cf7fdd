using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using Spectre.Console;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta bench train`: training tokens/s, model FLOPs utilisation and peak memory of one configuration through the
/// real <see cref="Trainer"/> (what a run gets: the chunked loss head, AdamW, clipping), and with --pytorch the
/// same configuration in plain eager PyTorch (bench/python/train_bench.py, the same libtorch) side by side.
/// </summary>
/// <remarks>
/// <para>Each side runs in its own process, so each peak is its own; both reset the resident-peak counter once
/// the model is built and adapted (building float32 weights before quantizing them is not training memory) and
/// read it after the last step. glibc is told to keep freed memory on both sides (ours as `fta train` does,
/// Python through MALLOC_ variables).</para>
/// <para>MFU = model FLOPs per token × tokens/s ÷ the peak matmul rate this process measures for the dtype (a
/// 2048² matmul through the binding, best of several). Model FLOPs count what the method must compute, not
/// recomputation: forward 2·(matmul weights + LoRA weights) + attention 4·L·S·heads·head_dim per token; the
/// backward's input gradients as much again, attention's twice; weight gradients 2 per trained matmul weight
/// (every matmul weight for Full, the adapters for LoRA). For Full this is PaLM's 6N + 12·L·H·Q·T.</para>
/// </remarks>
internal static class TrainBenchCommand
{
    private static readonly string[] Projections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>The shapes --params names: a built-in size with the real model's layer count.</summary>
    private static readonly Dictionary<(string Arch, string Params), (string Size, int Layers, JsonObject Overrides)> Shapes = new()
    {
        [("qwen3", "0.6B")] = ("small", 28, new JsonObject()),                        // Qwen3-0.6B
        [("qwen3", "1.7B")] = ("small", 28, new JsonObject { ["hidden_size"] = 2048, ["intermediate_size"] = 6144 }), // Qwen3-1.7B
        [("qwen3", "tiny")] = ("tiny", 2, new JsonObject()),
        [("llama", "1B")] = ("small", 16, new JsonObject()),                          // Llama-3.2-1B
        [("llama", "tiny")] = ("tiny", 2, new JsonObject()),
    };

    private static readonly string[] Methods = ["lora", "qlora-4", "qlora-8", "dora", "full", "freeze"];

    internal sealed record Args(string Arch, string Params, int? Layers, string Method, int SeqLen, int Batch, string Dtype, int Steps, int Warmup,
        int Rank, int Threads, bool GradientCheckpointing, bool Plain, string? Profile = null);

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "qwen3 or llama.", DefaultValueFactory = _ => "qwen3" };
        var parameters = new Option<string>("--params") { Description = "Model size: qwen3 0.6B|1.7B|tiny, llama 1B|tiny.", DefaultValueFactory = _ => "0.6B" };
        var layers = new Option<int?>("--layers") { Description = "Decoder layers instead of the model's own (for quicker runs)." };
        var method = new Option<string>("--method") { Description = $"One of {string.Join(", ", Methods)} (the PyTorch side: lora, qlora-4, full).", DefaultValueFactory = _ => "lora" };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string>("--dtype") { Description = "fp32, or bf16 (bfloat16 weights, bfloat16 autocast).", DefaultValueFactory = _ => "fp32" };
        var steps = new Option<int>("--steps") { Description = "Timed steps (median reported).", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 1 };
        var rank = new Option<int>("--rank") { Description = "LoRA r (alpha 2r, no dropout, 7 projections).", DefaultValueFactory = _ => 16 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads on both sides.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each layer in backward (ours only)." };
        var plain = new Option<bool>("--plain") { Description = "Our unoptimised path: the eager ATen ops instead of the fused kernels, and whole logits then the loss (HF's way)." };
        var pytorch = new Option<bool>("--pytorch") { Description = "Also run the configuration in plain PyTorch and print the ratios." };
        var python = new Option<string>("--python") { Description = "Python with torch (Debian's python3-torch: the same libtorch).", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--script") { Description = "bench/python/train_bench.py (default: found above fta's folder or the current one)." };
        var only = new Option<string?>("--only") { Description = "ours: run our side in this process and print its JSON." };
        var json = new Option<bool>("--json") { Description = "One JSON object (tokens_per_s, peak_memory_gb, mfu, …; with --pytorch both sides and the ratios)." };
        var profile = new Option<string?>("--profile") { Description = "Record our side's ops with libtorch's profiler: a Chrome trace to this file, and the ops by self time on stderr." };
        var command = new Command("train", "Training tokens/s, MFU and peak memory of one configuration; with --pytorch, against plain PyTorch.")
            { arch, parameters, layers, method, seqLen, batch, dtype, steps, warmup, rank, threads, checkpointing, plain, pytorch, python, script, only, json, profile };
        command.SetAction(parse =>
        {
            var args = new Args(parse.GetValue(arch)!, parse.GetValue(parameters)!, parse.GetValue(layers), parse.GetValue(method)!, parse.GetValue(seqLen),
                parse.GetValue(batch), parse.GetValue(dtype)!, parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(rank), parse.GetValue(threads),
                parse.GetValue(checkpointing), parse.GetValue(plain), parse.GetValue(profile) is { } p ? Path.GetFullPath(p) : null);
            var problem = Check(args, parse.GetValue(pytorch));
            if (problem is not null)
            {
                System.Console.Error.WriteLine($"fta bench train: {problem}");
                return 2;
            }
            if (parse.GetValue(only) is { } side)
            {
                if (side != "ours")
                    throw new ArgumentException("--only takes 'ours'");
                System.Console.WriteLine(RunOurs(args).ToJsonString());
                return 0;
            }
            return Run(args, parse.GetValue(pytorch), parse.GetValue(python)!, parse.GetValue(script), parse.GetValue(json));
        });
        return command;
    }

    /// <summary>What is wrong with the arguments, or null.</summary>
    internal static string? Check(Args a, bool pytorch)
    {
        if (a.Arch is not ("qwen3" or "llama"))
            return $"--arch must be qwen3 or llama, not '{a.Arch}'";
        if (!Shapes.ContainsKey((a.Arch, a.Params)))
            return $"--params '{a.Params}' is not a {a.Arch} size here; known: {string.Join(", ", Shapes.Keys.Where(k => k.Arch == a.Arch).Select(k => k.Params))}";
        if (!Methods.Contains(a.Method))
            return $"--method must be one of {string.Join(", ", Methods)}, not '{a.Method}'";
        if (pytorch && a.Method is not ("lora" or "qlora-4" or "full"))
            return $"--pytorch has a plain-PyTorch side for lora, qlora-4 and full, not {a.Method}";
        if (a.Dtype is not ("fp32" or "bf16"))
            return $"--dtype must be fp32 or bf16, not '{a.Dtype}'";
        if (a.SeqLen < 2 || a.Batch < 1 || a.Steps < 1 || a.Warmup < 0 || a.Rank < 1 || a.Threads < 1 || a.Layers is < 1)
            return "--seq-len must be at least 2; --batch, --steps, --rank, --threads, --layers at least 1; --warmup at least 0";
        return null;
    }

    /// <summary>The config.json of the shape --params names (a built-in size with the real model's overrides and layers).</summary>
    private static JsonObject ConfigJson(Args a, JsonObject builtIn)
    {
        var (_, layers, overrides) = Shapes[(a.Arch, a.Params)];
        foreach (var (key, value) in overrides)
            builtIn[key] = value?.DeepClone();
        builtIn["num_hidden_layers"] = a.Layers ?? layers;
        builtIn["torch_dtype"] = a.Dtype == "bf16" ? "bfloat16" : "float32";
        return builtIn;
    }

    private static JsonObject SettingsJson(Args a) => a.Method switch
    {
        "full" => new JsonObject(),
        "freeze" => new JsonObject { ["freeze_trainable_layers"] = 2 },
        _ => new JsonObject
        {
            ["r"] = a.Rank,
            ["lora_alpha"] = 2 * a.Rank,
            ["lora_dropout"] = 0.0,
            ["target_modules"] = new JsonArray(Projections.Select(p => (JsonNode)p).ToArray()),
            ["quant_type"] = a.Method switch { "qlora-4" => "nf4", "qlora-8" => "int8", _ => null },
        },
    };

    private static string PluginMethod(string method) => method switch { "qlora-4" or "qlora-8" => "qlora", _ => method };

    private static JsonObject RunOurs(Args a)
    {
        set_num_threads(a.Threads);
        CpuAllocator.RetainFreedMemory();
        using var host = PluginHost.Load();
        using var lease = host.AcquireMethod(PluginMethod(a.Method));
        var method = lease.Instance;
        var template = host.TemplateNamed(a.Arch);
        var configJson = ConfigJson(a, template.BuiltInConfig(Shapes[(a.Arch, a.Params)].Size));
        var config = ModelConfigReader.Parse(configJson, $"{a.Arch} {a.Params} shape");
        var settingsJson = SettingsJson(a);
        foreach (var key in settingsJson.Where(p => p.Value is null).Select(p => p.Key).ToList())
            settingsJson.Remove(key);
        var settings = method.ParseSettings(settingsJson);
        var dtype = a.Dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        BenchProcess.WarmUp();
        var peakGflops = PeakMatmulGflops(dtype);

        manual_seed(0);
        using var model = template.BuildModel(config, dtype, initialize: true);
        var adapted = method.Adapt(model, template, settings);
        var trainable = adapted.TrainableParameters.Sum(p => p.Parameter.numel());
        var random = new Random(0);
        var rows = Enumerable.Range(0, a.Batch * (a.Warmup + a.Steps)).Select(_ =>
        {
            var ids = Enumerable.Range(0, a.SeqLen).Select(_ => random.Next(config.VocabSize)).ToArray();
            return new TrainingSequence(ids, ids, [0]);
        }).ToList();
        var options = new TrainingOptions
        {
            LearningRate = 1e-4, MaxSteps = a.Warmup + a.Steps, PerDeviceTrainBatchSize = a.Batch, LrSchedulerType = "constant", WarmupRatio = 0,
            WeightDecay = 0, LoggingSteps = 1, SaveSteps = int.MaxValue, CutoffLen = a.SeqLen, Bf16 = a.Dtype == "bf16", GradientCheckpointing = a.GradientCheckpointing,
        };
        // The trainer writes nothing (WritesFiles = false); the folder it is given is never created.
        var output = Path.Combine(Path.GetTempPath(), $"fta-bench-train-{Environment.ProcessId}");
        var trainer = new Trainer(adapted, options, rows, [], output, new AdapterSaveOptions("bench"))
        {
            WritesFiles = false,
            Head = a.Plain ? LossHeadKind.Plain : LossHeadKind.Chunked,
        };
        var stepEnds = new List<TimeSpan>();
        var losses = new List<double>();
        var residentBefore = BenchProcess.ProcStatus("VmRSS");
        BenchProcess.ResetPeak();
        cpu.allocator.reset_peak();
        var reuseBefore = cpu.allocator.reuse();
        using (a.Plain ? FusedKernels.Disable() : null)
        using (a.Profile is { } trace ? autograd.profile(trace) : null)
            trainer.Train(new SynchronousProgress<TrainingEvent>(e =>
            {
                if (e is StepCompleted s)
                {
                    stepEnds.Add(s.Elapsed);
                    losses.Add(s.Loss);
                }
            }));
        if (a.Profile is { } written)
            ProfileSummary.Print(written, System.Console.Error, a.Warmup + a.Steps);
        var peak = BenchProcess.ProcStatus("VmHWM");
        var reuse = cpu.allocator.reuse();
        var times = stepEnds.Select((end, i) => (end - (i == 0 ? TimeSpan.Zero : stepEnds[i - 1])).TotalMilliseconds).Skip(a.Warmup).ToList();
        var sorted = times.Order().ToList();
        var stepMs = sorted[sorted.Count / 2];
        var tokensPerSecond = a.Batch * a.SeqLen / (stepMs / 1000);
        var flopsPerToken = ModelFlopsPerToken(config, a.SeqLen, a.Method, trainable);
        return new JsonObject
        {
            ["side"] = "ours",
            ["arch"] = a.Arch,
            ["params"] = a.Params,
            ["layers"] = config.NumHiddenLayers,
            ["method"] = a.Method,
            ["dtype"] = a.Dtype,
            ["path"] = a.Plain ? "plain (eager ops, whole logits)" : "optimised (fused kernels, chunked loss head)",
            ["gradient_checkpointing"] = a.GradientCheckpointing,
            ["threads"] = get_num_threads(),
            ["config"] = configJson.DeepClone(),
            ["parameters"] = config.ParameterCount(),
            ["hidden_size"] = config.HiddenSize,
            ["intermediate_size"] = config.IntermediateSize,
            ["attention_heads"] = config.NumAttentionHeads,
            ["key_value_heads"] = config.NumKeyValueHeads,
            ["head_dim"] = config.HeadDim,
            ["vocab_size"] = config.VocabSize,
            ["trainable"] = trainable,
            ["seq_len"] = a.SeqLen,
            ["batch"] = a.Batch,
            ["steps"] = a.Steps,
            ["step_ms"] = stepMs,
            ["step_ms_all"] = new JsonArray(times.Select(t => (JsonNode)t).ToArray()),
            ["losses"] = new JsonArray(losses.Select(l => (JsonNode)l).ToArray()),
            ["tokens_per_s"] = tokensPerSecond,
            ["peak_memory_gb"] = peak / 1e9,
            ["resident_before_steps_gb"] = residentBefore / 1e9,
            ["cpu_allocator"] = cpu.allocator.is_active()
                ? new JsonObject
                {
                    ["peak_gb"] = cpu.allocator.peak_bytes() / 1e9,
                    ["hits"] = reuse.Hits - reuseBefore.Hits,
                    ["resized"] = reuse.Resized - reuseBefore.Resized,
                    ["misses"] = reuse.Misses - reuseBefore.Misses,
                }
                : null,
            ["model_flops_per_token"] = flopsPerToken,
            ["peak_matmul_gflops"] = peakGflops,
            ["mfu"] = flopsPerToken * tokensPerSecond / (peakGflops * 1e9),
        };
    }

    /// <summary>See the class remarks: the FLOPs one token of a training step must compute under the method.</summary>
    internal static double ModelFlopsPerToken(ModelConfig c, int seqLen, string method, long trainable)
    {
        double h = c.HiddenSize, hd = c.HeadDim, heads = c.NumAttentionHeads, kv = c.NumKeyValueHeads, layers = c.NumHiddenLayers;
        var projections = layers * (h * heads * hd * 2 + h * kv * hd * 2 + 3 * h * c.IntermediateSize);
        var matmulWeights = projections + (double)c.VocabSize * h;
        var adapters = method is "lora" or "qlora-4" or "qlora-8" or "dora" ? trainable : 0;
        var attention = 4 * layers * seqLen * heads * hd;
        var forward = 2 * (matmulWeights + adapters) + attention;
        var weightGradients = 2 * (method == "full" ? matmulWeights : Math.Min(trainable, matmulWeights));
        return forward + (forward - attention) + 2 * attention + weightGradients;
    }

    /// <summary>The best of a few 2048² matmuls in <paramref name="dtype"/> through the binding, in GFLOP/s.</summary>
    internal static double PeakMatmulGflops(ScalarType dtype, int n = 2048, int rounds = 12)
    {
        using var scope = NewDisposeScope();
        var x = randn([n, n]).to_type(dtype);
        var y = randn([n, n]).to_type(dtype);
        using (x.matmul(y)) { }
        var best = 0.0;
        for (var r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            const int calls = 3;
            for (var i = 0; i < calls; i++)
                using (x.matmul(y)) { }
            best = Math.Max(best, 2.0 * n * n * n * calls / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    private static int Run(Args a, bool pytorch, string python, string? script, bool json)
    {
        var progress = System.Console.Error;
        progress.WriteLine($"fta bench train: ours ({a.Arch} {a.Params}, {a.Method}, {a.Dtype}, {a.Batch}×{a.SeqLen} tokens, {a.Warmup}+{a.Steps} steps) …");
        var ours = BenchProcess.RunChildProcess(["bench", "train", "--only", "ours", .. CommonArgs(a),
            .. a.GradientCheckpointing ? ["--gradient-checkpointing"] : Array.Empty<string>(), .. a.Plain ? ["--plain"] : Array.Empty<string>(), .. a.Profile is { } p ? ["--profile", p] : Array.Empty<string>()], "ours", echoStderr: a.Profile is not null);
        JsonObject? torch = null;
        if (pytorch)
        {
            progress.WriteLine("fta bench train: plain PyTorch …");
            torch = RunPython(a, python, script ?? FindScript(), ours["config"]!.AsObject());
            // MFU against the peak our process measured: the same machine, dtype and libtorch.
            torch["mfu"] = (double)torch["tokens_per_s"]! * (double)ours["model_flops_per_token"]! / ((double)ours["peak_matmul_gflops"]! * 1e9);
        }
        if (json)
        {
            var result = torch is null
                ? ours
                : new JsonObject
                {
                    ["ours"] = ours,
                    ["pytorch"] = torch,
                    ["tokens_per_s_ratio"] = (double)ours["tokens_per_s"]! / (double)torch["tokens_per_s"]!,
                    ["peak_memory_ratio"] = (double)ours["peak_memory_gb"]! / (double)torch["peak_memory_gb"]!,
                    ["tokens_per_s"] = ours["tokens_per_s"]!.DeepClone(),
                    ["peak_memory_gb"] = ours["peak_memory_gb"]!.DeepClone(),
                    ["mfu"] = ours["mfu"]!.DeepClone(),
                };
            System.Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var console = AnsiConsole.Console;
        console.MarkupLine(Markup.Escape($"{a.Arch} {a.Params} shape ({(long)ours["parameters"]!:N0} parameters, {(int)ours["layers"]!} layers), {a.Method} ({(long)ours["trainable"]!:N0} trainable), " +
            $"{a.Dtype}, {a.Batch}×{a.SeqLen} tokens, {a.Threads} threads; median of {a.Steps} steps after {a.Warmup}; peak matmul {(double)ours["peak_matmul_gflops"]!:F0} GFLOP/s ({a.Dtype})"));
        var table = new Table().AddColumns("side", "step ms", "tokens/s", "MFU", "peak memory GB");
        foreach (var (name, r) in new[] { ("ours", ours), ("pytorch", torch) })
            if (r is not null)
                table.AddRow(name, $"{(double)r["step_ms"]!:F0}", $"{(double)r["tokens_per_s"]!:F1}", $"{100 * (double)r["mfu"]!:F1} %", $"{(double)r["peak_memory_gb"]!:F2}");
        console.Write(table);
        if (torch is not null)
            console.MarkupLine(Markup.Escape($"ours ÷ pytorch: tokens/s {(double)ours["tokens_per_s"]! / (double)torch["tokens_per_s"]!:F2}×, peak memory {(double)ours["peak_memory_gb"]! / (double)torch["peak_memory_gb"]!:F2}×"));
        return 0;
    }

    private static string[] CommonArgs(Args a) =>
    [
        "--arch", a.Arch, "--params", a.Params, "--method", a.Method, "--dtype", a.Dtype, "--seq-len", I(a.SeqLen), "--batch", I(a.Batch),
        "--steps", I(a.Steps), "--warmup", I(a.Warmup), "--rank", I(a.Rank), "--threads", I(a.Threads), .. a.Layers is { } l ? ["--layers", I(l)] : Array.Empty<string>(),
    ];

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The plain-PyTorch side on <paramref name="configJson"/>, the config our side trained.</summary>
    private static JsonObject RunPython(Args a, string python, string script, JsonObject configJson)
    {
        var psi = new ProcessStartInfo(python, [script, "--config", configJson.ToJsonString(), "--method", a.Method, "--dtype", a.Dtype, "--seq-len", I(a.SeqLen),
            "--batch", I(a.Batch), "--steps", I(a.Steps), "--warmup", I(a.Warmup), "--rank", I(a.Rank), "--threads", I(a.Threads)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // What CpuAllocator.RetainFreedMemory does to our process, for the same libtorch in Python's.
        psi.Environment["MALLOC_MMAP_MAX_"] = "0";
        psi.Environment["MALLOC_TRIM_THRESHOLD_"] = int.MaxValue.ToString(CultureInfo.InvariantCulture);
        using var child = Process.Start(psi)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"{python} {script} failed ({child.ExitCode}): {stderr.Result}");
        return JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
    }

    private static string FindScript()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "python", "train_bench.py");
                if (File.Exists(candidate))
                    return candidate;
            }
        throw new FileNotFoundException("bench/python/train_bench.py not found above fta's folder or the current one; pass --script");
    }
}
