using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FineTuneAgent.Core.Plugins;
using FineTuneAgent.Modeling.Config;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Console.Commands;

/// <summary>`fta bench …`: measurements that belong in benchmarks, never in unit tests.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed on this machine.");
        bench.Subcommands.Add(Forward());
        bench.Subcommands.Add(MethodsBenchCommand.Create());
        bench.Subcommands.Add(QuantizedLoadBenchCommand.Create());
        bench.Subcommands.Add(TrainBenchCommand.Create());
        bench.Subcommands.Add(DdpBenchCommand.Create());
        return bench;
    }

    /// <summary>Forward (inference) tokens/s of a built-in model shape, without gradients.</summary>
    private static Command Forward()
    {
        var template = new Option<string>("--template") { Description = "qwen3 or llama.", DefaultValueFactory = _ => "qwen3" };
        var size = new Option<string>("--size") { Description = "Built-in size (tiny, small).", DefaultValueFactory = _ => "small" };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 256 };
        var batch = new Option<int>("--batch") { Description = "Sequences per forward.", DefaultValueFactory = _ => 1 };
        var dtype = new Option<string>("--dtype") { Description = "fp32 or bf16.", DefaultValueFactory = _ => "fp32" };
        var steps = new Option<int>("--steps") { Description = "Timed forwards (after one warm-up).", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("forward", "Forward-pass tokens/s of a built-in model shape.") { template, size, seqLen, batch, dtype, steps, json };
        command.SetAction(parse =>
        {
            using var plugins = PluginHost.Load();
            var t = plugins.TemplateNamed(parse.GetValue(template)!);
            var config = ModelConfigReader.Parse(t.BuiltInConfig(parse.GetValue(size)!), $"built-in {t.Name}");
            var type = parse.GetValue(dtype) switch
            {
                "fp32" => ScalarType.Float32,
                "bf16" => ScalarType.BFloat16,
                var other => throw new ArgumentException($"--dtype must be fp32 or bf16, not '{other}'"),
            };
            int b = parse.GetValue(batch), s = parse.GetValue(seqLen), n = parse.GetValue(steps);
            manual_seed(0);
            using var model = t.BuildModel(config, type, initialize: true);
            model.eval();
            using var ids = randint(0, config.VocabSize, [b, s]);
            using var noGrad = no_grad();
            using (model.forward(ids)) { }
            var times = new List<double>();
            for (var i = 0; i < n; i++)
            {
                var clock = Stopwatch.StartNew();
                using (model.forward(ids)) { }
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            var median = times[times.Count / 2];
            var tokensPerSecond = b * s / median;
            var result = new
            {
                template = t.Name, size = parse.GetValue(size), parameters = config.ParameterCount(), dtype = parse.GetValue(dtype),
                batch = b, seq_len = s, threads = get_num_threads(), median_seconds = median, tokens_per_s = tokensPerSecond,
            };
            if (parse.GetValue(json))
                System.Console.WriteLine(JsonSerializer.Serialize(result));
            else
                System.Console.WriteLine($"{t.Name} {result.size} ({result.parameters:N0} params, {result.dtype}), batch {b} x {s} tokens, {result.threads} threads: " +
                    $"{tokensPerSecond:F0} tokens/s (median of {n} forwards, {median * 1000:F0} ms each)");
            return 0;
        });
        return command;
    }
}
