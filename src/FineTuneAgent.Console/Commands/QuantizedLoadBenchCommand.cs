using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Core.Quantization;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using Spectre.Console;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>
/// `fta bench qload`: peak memory and time of getting a QLoRA-ready model from a checkpoint —
/// load in full precision then quantize (what QLoRA's Adapt does to a loaded model), stream the
/// checkpoint into NF4 tensor by tensor, and read the quantized-base cache. Each in its own process.
/// </summary>
internal static class QuantizedLoadBenchCommand
{
    private static readonly string[] Modes = ["full-then-quantize", "streamed", "cached"];

    public static Command Create()
    {
        var template = new Option<string>("--template") { Description = "qwen3 or llama.", DefaultValueFactory = _ => "qwen3" };
        var size = new Option<string>("--size") { Description = "Built-in size (tiny, small).", DefaultValueFactory = _ => "small" };
        var only = new Option<string?>("--only") { Description = "Run one mode in this process (full-then-quantize, streamed, cached) and print its JSON." };
        var work = new Option<string?>("--work") { Description = "Folder holding the checkpoint and cache (default: a temporary folder)." };
        var command = new Command("qload", "Peak memory and time of loading a checkpoint as a QLoRA (NF4) base, three ways.") { template, size, only, work };
        command.SetAction(parse =>
        {
            var t = parse.GetValue(template)!;
            var s = parse.GetValue(size)!;
            if (parse.GetValue(only) is { } mode)
            {
                System.Console.WriteLine(RunOne(mode, parse.GetValue(work)!).ToJsonString());
                return 0;
            }
            var folder = parse.GetValue(work) ?? Path.Combine(Path.GetTempPath(), $"fta-qload-{Guid.NewGuid():N}");
            try
            {
                return RunAll(t, s, folder);
            }
            finally
            {
                if (parse.GetValue(work) is null && Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
            }
        });
        return command;
    }

    private static int RunAll(string template, string size, string folder)
    {
        var console = Terminal.Create();
        using (var host = PluginHost.Load())
        {
            var t = host.TemplateNamed(template);
            var config = ModelConfigReader.Parse(t.BuiltInConfig(size), $"built-in {t.Name}");
            manual_seed(0);
            using var model = t.BuildModel(config, ScalarType.Float32, initialize: true);
            Checkpoint.Save(model, Path.Combine(folder, "model"));
            console.MarkupLine($"[grey]{t.Name} {size}: {config.ParameterCount():N0} parameters saved as fp32 in {Path.Combine(folder, "model")}[/]");
        }
        // "streamed" fills the cache that "cached" then reads.
        var results = Modes.Select(m => BenchProcess.RunChildProcess(["bench", "qload", "--only", m, "--work", folder], m)).ToList();
        console.MarkupLine("[grey]Anonymous resident memory (not the memory-mapped checkpoint's file pages) above the process's own after libtorch's warm-up, sampled every millisecond; the QLoRA adapters (r 16) are included.[/]");
        var table = new Table().AddColumns("Way", "Seconds", "Peak above baseline (MiB)", "Model after (MiB)");
        foreach (var r in results)
            table.AddRow((string)r["mode"]!, $"{(double)r["seconds"]!:F2}", $"{(double)r["peak_above_baseline_mib"]!:F0}", $"{(double)r["after_mib"]!:F0}");
        console.Write(table);
        var chart = new BarChart().Label("Peak memory above baseline (MiB)").Width(80);
        foreach (var r in results)
            chart.AddItem((string)r["mode"]!, Math.Round((double)r["peak_above_baseline_mib"]!), Color.Blue);
        console.Write(chart);
        return 0;
    }

    private static JsonObject RunOne(string mode, string folder)
    {
        if (!Modes.Contains(mode))
            throw new ArgumentException($"--only must be one of {string.Join(", ", Modes)}, not '{mode}'");
        using var host = PluginHost.Load();
        var qlora = host.Method("qlora");
        var modelDir = Path.Combine(folder, "model");
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var template = host.TemplateFor(config.ModelType);
        var settings = qlora.ParseSettings(new JsonObject { ["r"] = 16 });
        BenchProcess.WarmUp();
        // Anonymous memory only: the checkpoint is memory-mapped, and its file pages (which the
        // kernel can drop at any time) would otherwise count as the process's. The kernel keeps no
        // peak of anonymous memory, so a sampler records it.
        var baseline = BenchProcess.ProcStatus("RssAnon");
        using var sampler = new PeakSampler("RssAnon");
        var clock = Stopwatch.StartNew();
        var model = mode == "full-then-quantize"
            ? Checkpoint.Load(modelDir)
            : QuantizedBase.Load(modelDir, QuantizationScheme.Nf4, cacheDir: Path.Combine(folder, "cache")).Model;
        using (model)
        {
            qlora.Adapt(model, template, settings);
            var seconds = clock.Elapsed.TotalSeconds;
            const double mib = 1024.0 * 1024.0;
            return new JsonObject
            {
                ["mode"] = mode,
                ["seconds"] = seconds,
                ["peak_above_baseline_mib"] = (sampler.Stop() - baseline) / mib,
                ["after_mib"] = (BenchProcess.ProcStatus("RssAnon") - baseline) / mib,
            };
        }
    }

    /// <summary>Samples a /proc/self/status field on a background thread and keeps its maximum.</summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private double _peak;

        public PeakSampler(string field)
        {
            _peak = BenchProcess.ProcStatus(field);
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    _peak = Math.Max(_peak, BenchProcess.ProcStatus(field));
                    Thread.Sleep(1);
                }
                _peak = Math.Max(_peak, BenchProcess.ProcStatus(field));
            }) { IsBackground = true };
            _thread.Start();
        }

        public double Stop()
        {
            _stop = true;
            _thread.Join();
            return _peak;
        }

        public void Dispose()
        {
            if (!_stop)
                Stop();
        }
    }
}
