using System.CommandLine;
using System.Diagnostics;
using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Bench;

/// <summary>
/// `quant`: NF4 dequantization throughput and an NF4 linear against a float32 linear (forward +
/// backward to the input, the QLoRA base-layer step), side by side on one size×size layer.
/// </summary>
public static class QuantCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Layer size (size × size weight).", DefaultValueFactory = _ => 2048 };
        var tokens = new Option<int>("--tokens") { Description = "Rows of the linear input (batch × sequence).", DefaultValueFactory = _ => 512 };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds (after one warm-up round).", DefaultValueFactory = _ => 7 };
        var calls = new Option<int>("--calls") { Description = "Calls per round.", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("quant", "NF4 dequantize GB/s, and NF4 vs float32 linear forward+backward time.") { size, tokens, rounds, calls, threads };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(size), t = parse.GetValue(tokens), r = parse.GetValue(rounds), c = parse.GetValue(calls), th = parse.GetValue(threads);
            if (new[] { n, t, r, c, th }.Any(v => v < 1) || n % 2 != 0)
            {
                Console.Error.WriteLine("quant: --size (even), --tokens, --rounds, --calls and --threads must be positive.");
                return 2;
            }
            Run(n, t, r, c, th);
            return 0;
        });
        return command;
    }

    private static void Run(int n, int tokens, int rounds, int calls, int threads)
    {
        set_num_threads(threads);
        manual_seed(0);
        using var source = new Linear(n, n, hasBias: false);
        source.weight.requires_grad = false;
        using var nf4 = new Nf4Linear(source);
        using var x = randn(tokens, n);
        var weights = (double)n * n;
        Console.WriteLine($"quant: {n}×{n} layer, {tokens} input rows, {threads} threads, median of {rounds} rounds × {calls} calls");

        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var s = Median(rounds, calls, () => nf4.Dequantize(dtype).Dispose());
            var bytesOut = weights * (dtype == ScalarType.Float32 ? 4 : 2);
            Console.WriteLine($"  NF4 dequantize → {dtype,-8}: {s * 1e3,8:F3} ms   {bytesOut / s / 1e9,6:F2} GB/s written   {weights / s / 1e9,6:F2} Gweights/s");
        }

        var fp32 = Median(rounds, calls, () => Step(source, x));
        var q = Median(rounds, calls, () => Step(nf4, x));
        Console.WriteLine($"  linear fwd+bwd(input) float32: {fp32 * 1e3,8:F3} ms");
        Console.WriteLine($"  linear fwd+bwd(input) NF4    : {q * 1e3,8:F3} ms   ({q / fp32:F2}× float32)");
        Console.WriteLine($"  weight bytes: float32 {weights * 4 / 1e6:F1} MB, NF4 with double quantization {nf4.QuantizedWeight.StorageBytes / 1e6:F2} MB");
    }

    private static void Step(nn.Module<Tensor, Tensor> layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        var xi = input.detach().requires_grad_(true);
        layer.call(xi).sum().backward();
    }

    /// <summary>Median seconds per call.</summary>
    private static double Median(int rounds, int calls, Action op)
    {
        for (var i = 0; i < calls; i++)
            op();
        var times = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
                op();
            times[r] = sw.Elapsed.TotalSeconds / calls;
        }
        Array.Sort(times);
        return times[rounds / 2];
    }
}
