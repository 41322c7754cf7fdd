using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta bench lora-vs-torch`: LoRA training throughput of ours against plain PyTorch
/// (bench/python/lora_train.py, the same libtorch) on the same Qwen3-0.6B-shaped model, side by side.
/// Each side runs in its own process (peak RSS is its own), with the same threads, shape, rank,
/// targets, loss and optimizer, and glibc told to keep freed memory on both (ours does it in
/// process as `fta train` does; Python gets MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_).
/// </summary>
internal static class LoraVsTorchBenchCommand
{
    private static readonly string[] Projections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    private sealed record Args(int Layers, int SeqLen, int Batch, int Steps, int Warmup, int Rank, int Threads);

    public static Command Create()
    {
        var layers = new Option<int>("--layers") { Description = "Decoder layers (Qwen3-0.6B has 28).", DefaultValueFactory = _ => 28 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (median reported).", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 1 };
        var rank = new Option<int>("--rank") { Description = "LoRA r (alpha 2r, no dropout).", DefaultValueFactory = _ => 16 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads on both sides.", DefaultValueFactory = _ => 2 };
        var python = new Option<string>("--python") { Description = "Python with torch (Debian's python3-torch: the same libtorch).", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--script") { Description = "bench/python/lora_train.py (default: found above fta's folder or the current one)." };
        var only = new Option<string?>("--only") { Description = "ours: run our side in this process and print its JSON." };
        var json = new Option<bool>("--json") { Description = "Print both results and the ratio as JSON." };
        var command = new Command("lora-vs-torch", "LoRA training tokens/s and peak RSS: ours vs plain PyTorch on a Qwen3-0.6B-shaped model.")
            { layers, seqLen, batch, steps, warmup, rank, threads, python, script, only, json };
        command.SetAction(parse =>
        {
            var args = new Args(parse.GetValue(layers), parse.GetValue(seqLen), parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(rank), parse.GetValue(threads));
            if (parse.GetValue(only) is { } side)
            {
                if (side != "ours")
                    throw new ArgumentException("--only takes 'ours'");
                System.Console.WriteLine(RunOurs(args).ToJsonString());
                return 0;
            }
            return RunBoth(args, parse.GetValue(python)!, parse.GetValue(script) ?? FindScript(), parse.GetValue(json));
        });
        return command;
    }

    private static string[] CommonArgs(Args a) =>
    [
        "--layers", I(a.Layers), "--seq-len", I(a.SeqLen), "--batch", I(a.Batch), "--steps", I(a.Steps),
        "--warmup", I(a.Warmup), "--rank", I(a.Rank), "--threads", I(a.Threads),
    ];

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int RunBoth(Args args, string python, string script, bool json)
    {
        var ours = BenchProcess.RunChildProcess(["bench", "lora-vs-torch", "--only", "ours", .. CommonArgs(args)], "ours");
        var torch = RunPython(python, script, CommonArgs(args));
        var ratio = (double)ours["tokens_per_s"]! / (double)torch["tokens_per_s"]!;
        if (json)
        {
            System.Console.WriteLine(new JsonObject { ["ours"] = ours, ["pytorch"] = torch, ["tokens_per_s_ratio"] = ratio }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        System.Console.WriteLine($"LoRA r{args.Rank} (7 projections, alpha {2 * args.Rank}, no dropout), AdamW; Qwen3-0.6B shape with {args.Layers} layers, fp32, " +
            $"batch {args.Batch} x {args.SeqLen} tokens, {args.Threads} threads; median of {args.Steps} steps after {args.Warmup} warm-up");
        System.Console.WriteLine($"{"side",-8} {"parameters",14} {"trainable",11} {"step ms",9} {"tokens/s",9} {"peak RSS MiB",13}");
        foreach (var (name, r) in new[] { ("ours", ours), ("pytorch", torch) })
            System.Console.WriteLine($"{name,-8} {(long)r["parameters"]!,14:N0} {(long)r["trainable"]!,11:N0} {(double)r["step_ms"]!,9:F0} {(double)r["tokens_per_s"]!,9:F1} {(double)r["peak_rss_mib"]!,13:F0}");
        System.Console.WriteLine($"ours / pytorch tokens/s: {ratio:F2}");
        return 0;
    }

    private static JsonObject RunPython(string python, string script, string[] arguments)
    {
        var psi = new ProcessStartInfo(python, [script, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
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
                var candidate = Path.Combine(dir.FullName, "bench", "python", "lora_train.py");
                if (File.Exists(candidate))
                    return candidate;
            }
        throw new FileNotFoundException("bench/python/lora_train.py not found above fta's folder or the current one; pass --script");
    }

    private static JsonObject RunOurs(Args args)
    {
        set_num_threads(args.Threads);
        CpuAllocator.RetainFreedMemory();
        using var host = PluginHost.Load();
        using var lease = host.AcquireMethod("lora");
        var method = lease.Instance;
        var template = host.TemplateNamed("qwen3");
        var configJson = template.BuiltInConfig("small"); // Qwen3-0.6B's width, heads, vocabulary, tied
        configJson["num_hidden_layers"] = args.Layers;
        var config = ModelConfigReader.Parse(configJson, "Qwen3-0.6B shape");
        var settings = method.ParseSettings(new JsonObject
        {
            ["r"] = args.Rank,
            ["lora_alpha"] = 2 * args.Rank,
            ["lora_dropout"] = 0.0,
            ["target_modules"] = new JsonArray(Projections.Select(p => (JsonNode)p).ToArray()),
        });
        BenchProcess.WarmUp();
        manual_seed(0);
        using var model = template.BuildModel(config, ScalarType.Float32, initialize: true);
        var adapted = method.Adapt(model, template, settings);
        using var optimizer = optim.AdamW(adapted.ParameterGroups(1e-4, 0.0), lr: 1e-4, weight_decay: 0.0);
        model.train();
        using var ids = randint(0, config.VocabSize, [args.Batch, args.SeqLen]);
        var times = new List<double>();
        for (var i = 0; i < args.Warmup + args.Steps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var loss = CausalLM.CausalLmLoss(model.forward(ids), ids);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            if (i >= args.Warmup)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        var all = times.ToList();
        times.Sort();
        var step = times[times.Count / 2];
        return new JsonObject
        {
            ["side"] = "ours",
            ["threads"] = get_num_threads(),
            ["layers"] = args.Layers,
            ["parameters"] = config.ParameterCount(),
            ["trainable"] = adapted.TrainableParameters.Sum(p => p.Parameter.numel()),
            ["seq_len"] = args.SeqLen,
            ["batch"] = args.Batch,
            ["steps"] = args.Steps,
            ["step_ms"] = step,
            ["step_ms_all"] = new JsonArray(all.Select(t => (JsonNode)t).ToArray()),
            ["tokens_per_s"] = args.Batch * args.SeqLen / (step / 1000),
            ["peak_rss_mib"] = BenchProcess.ProcStatus("VmHWM") / (1024.0 * 1024.0),
        };
    }
}
