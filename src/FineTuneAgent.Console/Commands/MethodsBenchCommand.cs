using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using Spectre.Console;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta bench methods`: one training step of the same model and batch under each method, side by
/// side: step time and peak memory. Each method runs in its own child process so its peak
/// resident memory (VmHWM) is its own.
/// </summary>
internal static class MethodsBenchCommand
{
    /// <summary>The rows of the comparison: a label, the method plugin and its settings.</summary>
    private static readonly (string Label, string Method, string Settings)[] Variants =
    [
        ("Full", "full", "{}"),
        ("Freeze", "freeze", "{\"freeze_trainable_layers\": 2}"),
        ("LoRA", "lora", "{\"r\": 16}"),
        ("DoRA", "dora", "{\"r\": 16}"),
        ("QLoRA-8", "qlora", "{\"r\": 16, \"quant_type\": \"int8\"}"),
        ("QLoRA-4", "qlora", "{\"r\": 16, \"quant_type\": \"nf4\"}"),
    ];

    public static Command Create()
    {
        var template = new Option<string>("--template") { Description = "qwen3 or llama.", DefaultValueFactory = _ => "qwen3" };
        var size = new Option<string>("--size") { Description = "Built-in size (tiny, small).", DefaultValueFactory = _ => "small" };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per method (after one warm-up).", DefaultValueFactory = _ => 3 };
        var only = new Option<string?>("--only") { Description = "Run one variant in this process (Full, Freeze, LoRA, DoRA, QLoRA-8, QLoRA-4) and print its JSON." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each decoder layer in backward (as fta train --gradient-checkpointing)." };
        var set = new Option<string[]>("--set") { Description = "Override a field of the built-in config.json, KEY=NUMBER (repeatable), e.g. --set num_hidden_layers=2 --set vocab_size=32000." };
        var command = new Command("methods", "Training step time and peak memory of each fine-tuning method on the same model and batch.") { template, size, seqLen, batch, steps, only, checkpointing, set, json };
        command.SetAction(parse =>
        {
            var args = new Args(parse.GetValue(template)!, parse.GetValue(size)!, parse.GetValue(seqLen), parse.GetValue(batch), parse.GetValue(steps), parse.GetValue(checkpointing), parse.GetValue(set) ?? []);
            if (parse.GetValue(only) is { } label)
            {
                System.Console.WriteLine(RunOne(args, label).ToJsonString());
                return 0;
            }
            return RunAll(args, parse.GetValue(json));
        });
        return command;
    }

    private sealed record Args(string Template, string Size, int SeqLen, int Batch, int Steps, bool GradientCheckpointing, string[] Overrides);

    /// <summary>The built-in config with the --set overrides applied (KEY=NUMBER; an unknown key or a non-number is an error).</summary>
    private static JsonObject ConfigWithOverrides(JsonObject config, string[] overrides)
    {
        foreach (var o in overrides)
        {
            var eq = o.IndexOf('=');
            var key = eq > 0 ? o[..eq] : throw new ArgumentException($"--set '{o}': expected KEY=NUMBER");
            if (!config.ContainsKey(key))
                throw new ArgumentException($"--set '{o}': the config has no field '{key}'");
            if (!long.TryParse(o[(eq + 1)..], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"--set '{o}': '{o[(eq + 1)..]}' is not an integer");
            config[key] = value;
            if (key == "num_hidden_layers" && config.ContainsKey("max_window_layers"))
                config["max_window_layers"] = value;
        }
        return config;
    }

    private static int RunAll(Args args, bool json)
    {
        var console = Terminal.Create();
        var results = new List<JsonObject>();
        foreach (var (label, _, _) in Variants)
        {
            if (!json)
                console.MarkupLine($"[grey]running {label}…[/]");
            results.Add(RunChild(args, label));
        }
        if (json)
        {
            System.Console.WriteLine(new JsonArray(results.Select(r => (JsonNode)r).ToArray()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var first = results[0];
        console.MarkupLine($"{args.Template} {args.Size} ({(long)first["parameters"]!:N0} parameters, fp32), batch {args.Batch} × {args.SeqLen} tokens, {(int)first["threads"]!} threads, median of {args.Steps} steps after a warm-up; each method in its own process{(args.GradientCheckpointing ? "; gradient checkpointing" : "")}");
        var table = new Table().AddColumns("Method", "Trainable", "Step (ms)", "Tokens/s", "Adapted model (MiB)", "Training peak (MiB)", "Estimate (MiB)", "Whole-run peak (MiB)");
        var fullStep = (double)first["step_ms"]!;
        var fullPeak = (double)first["training_peak_above_baseline_mib"]!;
        foreach (var r in results)
        {
            table.AddRow(
                (string)r["label"]!,
                $"{(long)r["trainable"]!:N0}",
                $"{(double)r["step_ms"]!:F0} ({(double)r["step_ms"]! / fullStep:F2}×)",
                $"{(double)r["tokens_per_s"]!:F0}",
                $"{(double)r["adapted_model_mib"]!:F0}",
                $"{(double)r["training_peak_above_baseline_mib"]!:F0} ({(double)r["training_peak_above_baseline_mib"]! / fullPeak:F2}×)",
                $"{(double)r["estimate_mib"]!:F0}",
                $"{(double)r["peak_above_baseline_mib"]!:F0}");
        }
        console.Write(table);
        console.MarkupLine("[grey]Memory is resident memory above the process's own before the model is built (libtorch warmed up). Adapted model: after adapting, before training; training peak: the highest point during the steps; whole-run peak also covers building the fp32 model before a method quantizes or freezes it. Estimate: the method's own EstimateMemory for this shape.[/]");
        var chart = new BarChart().Label("Training peak memory above baseline (MiB)").Width(80);
        foreach (var r in results)
            chart.AddItem((string)r["label"]!, Math.Round((double)r["training_peak_above_baseline_mib"]!), Color.Blue);
        console.Write(chart);
        var times = new BarChart().Label("Step time (ms)").Width(80);
        foreach (var r in results)
            times.AddItem((string)r["label"]!, Math.Round((double)r["step_ms"]!), Color.Green);
        console.Write(times);
        return 0;
    }

    private static JsonObject RunChild(Args args, string label) =>
        BenchProcess.RunChildProcess(["bench", "methods", "--only", label, "--template", args.Template, "--size", args.Size,
            "--seq-len", args.SeqLen.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", args.Batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--steps", args.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), .. (args.GradientCheckpointing ? ["--gradient-checkpointing"] : Array.Empty<string>()),
            .. args.Overrides.SelectMany(o => new[] { "--set", o })], label);

    private static JsonObject RunOne(Args args, string label)
    {
        var variant = Variants.FirstOrDefault(v => string.Equals(v.Label, label, StringComparison.OrdinalIgnoreCase));
        if (variant.Label is null)
            throw new ArgumentException($"--only must be one of {string.Join(", ", Variants.Select(v => v.Label))}, not '{label}'");
        using var host = PluginHost.Load();
        using var lease = host.AcquireMethod(variant.Method);
        var method = lease.Instance;
        var template = host.TemplateNamed(args.Template);
        var config = ModelConfigReader.Parse(ConfigWithOverrides(template.BuiltInConfig(args.Size), args.Overrides), $"built-in {template.Name}");
        var settings = method.ParseSettings(JsonNode.Parse(variant.Settings)!.AsObject());
        var shape = new TrainingShape { MicroBatchSize = args.Batch, SequenceLength = args.SeqLen, WeightDtype = ScalarType.Float32, ComputeDtype = ScalarType.Float32, GradientCheckpointing = args.GradientCheckpointing, FusedCpuKernels = true };
        var estimate = method.EstimateMemory(config, shape, settings);

        BenchProcess.WarmUp();
        var baseline = BenchProcess.ProcStatus("VmRSS");
        var baselineFile = BenchProcess.ProcStatus("RssFile");
        manual_seed(0);
        using var model = template.BuildModel(config, ScalarType.Float32, initialize: true);
        var adapted = method.Adapt(model, template, settings);
        using var optimizer = optim.AdamW(adapted.ParameterGroups(1e-4, 0.0), lr: 1e-4);
        model.train();
        using var ids = randint(0, config.VocabSize, [args.Batch, args.SeqLen]);
        var loadPeak = BenchProcess.ProcStatus("VmHWM");
        var adaptedRss = BenchProcess.ProcStatus("VmRSS");
        BenchProcess.ResetPeak();
        const double mib = 1024.0 * 1024.0;
        var times = new List<double>();
        // The peak of each phase of each step (forward+backward, optimizer step), above the baseline:
        // where the training peak happens, for checking the estimate's terms.
        var phases = new JsonArray();
        var trainingPeak = 0.0;
        double PhasePeak()
        {
            var p = BenchProcess.ProcStatus("VmHWM");
            trainingPeak = Math.Max(trainingPeak, p);
            BenchProcess.ResetPeak();
            return Math.Round((p - baseline) / mib, 1);
        }
        for (var i = 0; i <= args.Steps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                cpu.allocator.reset_peak();
                // The loss as fta train computes it (Trainer's default head): counted tokens a chunk at a time.
                if (args.GradientCheckpointing)
                    GradientCheckpointing.ForwardBackward(model, ids, null, null, ids, numItemsInBatch: null);
                else
                    LossHead.ForwardBackward(model.model.forward(ids), model.OutputWeight, ids);
                var backward = PhasePeak();
                var largeBackward = Math.Round(cpu.allocator.peak_bytes() / mib, 1);
                cpu.allocator.reset_peak();
                optimizer.step();
                phases.Add(new JsonObject
                {
                    ["forward_backward_mib"] = backward, ["large_forward_backward_mib"] = largeBackward, ["optimizer_mib"] = PhasePeak(), ["rss_after_mib"] = Math.Round((BenchProcess.ProcStatus("VmRSS") - baseline) / mib, 1),
                    // The caching allocator's large blocks after the step: held by tensors, and kept for reuse.
                    ["large_live_after_mib"] = Math.Round(cpu.allocator.live_bytes() / mib, 1), ["large_cached_after_mib"] = Math.Round(cpu.allocator.cached_bytes() / mib, 1),
                    // Pages of libraries (libtorch's kernels) first touched by the step: resident, but not tensors.
                    ["file_pages_after_mib"] = Math.Round((BenchProcess.ProcStatus("RssFile") - baselineFile) / mib, 1),
                });
            }
            if (i > 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        var step = times[times.Count / 2];
        var peak = Math.Max(loadPeak, trainingPeak);
        return new JsonObject
        {
            ["label"] = variant.Label,
            ["method"] = variant.Method,
            ["settings"] = settings.ToJson(),
            ["parameters"] = config.ParameterCount(),
            ["trainable"] = adapted.TrainableParameters.Sum(p => p.Parameter.numel()),
            ["threads"] = get_num_threads(),
            ["gradient_checkpointing"] = args.GradientCheckpointing,
            ["step_ms"] = step,
            ["tokens_per_s"] = args.Batch * args.SeqLen / (step / 1000),
            ["peak_rss_mib"] = peak / mib,
            ["baseline_rss_mib"] = baseline / mib,
            ["peak_above_baseline_mib"] = (peak - baseline) / mib,
            ["adapted_model_mib"] = (adaptedRss - baseline) / mib,
            ["training_peak_above_baseline_mib"] = (trainingPeak - baseline) / mib,
            ["estimate_mib"] = estimate.TotalBytes / mib,
            ["estimate_components_mib"] = new JsonObject(estimate.Components.Select(c => KeyValuePair.Create(c.Component, (JsonNode?)Math.Round(c.Bytes / mib, 1)))),
            ["phase_peaks_mib"] = phases,
        };
    }
}
