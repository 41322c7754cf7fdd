using System.CommandLine;
using FineTuneAgent.Torch;

namespace FineTuneAgent.Bench;

/// <summary>
/// `matmul`: float32 matmul GFLOP/s and the per-call cost of trivial ops, through the binding and
/// through torch_driver (C++, same libtorch, same thread count). Rounds alternate between the two
/// sides, starting with each side in turn, so drift from other load on the machine hits both alike.
/// </summary>
public static class MatmulCommand
{
    /// <summary>Work per matmul round when --calls is not given: enough to swamp timer and scheduler noise.</summary>
    private const double RoundGflop = 40;

    private const string ResultAllocation = "every call allocates a new result tensor on both sides (no out= variant)";

    public static Command Create()
    {
        var sizes = new Option<int[]>("--sizes") { Description = "Matrix sizes n (n x n times n x n).", DefaultValueFactory = _ => [1024, 4096], AllowMultipleArgumentsPerToken = true };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds per side (after one warm-up round each).", DefaultValueFactory = _ => 11 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads, set on both sides.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var calls = new Option<int?>("--calls") { Description = "matmul calls per round (default: about 40 GFLOP of work, at least 2)." };
        var addCalls = new Option<int>("--add-calls") { Description = "add calls per round.", DefaultValueFactory = _ => 100_000 };
        var noopCalls = new Option<int>("--noop-calls") { Description = "get_num_threads calls per round.", DefaultValueFactory = _ => 2_000_000 };
        var driver = new Option<string>("--driver") { Description = "Path of torch_driver.", DefaultValueFactory = _ => NativeDriver.DefaultPath };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table." };
        var command = new Command("matmul", "float32 matmul GFLOP/s and trivial-op overhead: binding vs libtorch from C++.")
        {
            sizes, rounds, threads, calls, addCalls, noopCalls, driver, json,
        };
        command.SetAction(parse =>
        {
            // Checked here, not in a validator: validators run before option defaults are applied.
            var sizeList = parse.GetValue(sizes) ?? [];
            int[] counts = [parse.GetValue(rounds), parse.GetValue(threads), parse.GetValue(calls) ?? 1, parse.GetValue(addCalls), parse.GetValue(noopCalls)];
            if (sizeList.Length == 0 || sizeList.Any(n => n < 1) || counts.Any(c => c < 1))
            {
                Console.Error.WriteLine("matmul: --sizes, --rounds, --threads, --calls, --add-calls and --noop-calls must be positive.");
                return 2;
            }
            var report = Run(sizeList, parse.GetValue(rounds), parse.GetValue(threads), parse.GetValue(calls),
                parse.GetValue(addCalls), parse.GetValue(noopCalls), parse.GetValue(driver) ?? NativeDriver.DefaultPath);
            Console.WriteLine(parse.GetValue(json) ? report.ToJson() : report.ToTable());
            return 0;
        });
        return command;
    }

    public static MatmulReport Run(int[] sizes, int rounds, int threads, int? calls, int addCalls, int noopCalls, string driverPath)
    {
        torch.set_num_threads(threads);
        var bindingThreads = torch.get_num_threads();
        using var driver = NativeDriver.Start(driverPath);
        var (nativeThreads, nativeLibtorch) = driver.SetThreads(threads);
        if (bindingThreads != threads || nativeThreads != threads)
            throw new InvalidOperationException($"asked for {threads} threads; the binding has {bindingThreads}, torch_driver {nativeThreads}");
        if (nativeLibtorch != torch.__version__)
            throw new InvalidOperationException($"the shim was built against libtorch {torch.__version__} but torch_driver against {nativeLibtorch}");

        using var binding = new BindingSide();
        var matmuls = new List<MatmulResult>();
        foreach (var n in sizes)
        {
            var perRound = calls ?? Math.Max(2, (int)Math.Ceiling(RoundGflop * 1e9 / Flop(n)));
            Progress($"matmul {n}x{n}: warm-up, then {rounds} rounds of {perRound} calls per side");
            binding.Matmul(n, Math.Max(1, perRound / 2));
            driver.Matmul(n, Math.Max(1, perRound / 2));
            var (b, x) = Alternate(rounds, () => binding.Matmul(n, perRound), () => driver.Matmul(n, perRound));
            var bGflops = b.Select(s => Flop(n) * perRound / s / 1e9).ToArray();
            var xGflops = x.Select(s => Flop(n) * perRound / s / 1e9).ToArray();
            var bMedian = MatmulReport.Median(bGflops);
            var xMedian = MatmulReport.Median(xGflops);
            var paired = MatmulReport.Median(bGflops.Zip(xGflops, (bg, xg) => bg / xg).ToArray());
            matmuls.Add(new MatmulResult(n, perRound, bMedian, xMedian, bMedian / xMedian, paired, bGflops, xGflops));
        }

        var overhead = new List<OverheadResult>
        {
            Overhead("add, 1-element tensors", rounds, addCalls, binding.Add, driver.Add),
            Overhead("get_num_threads (no-op)", rounds, noopCalls, BindingSide.GetNumThreads, driver.GetNumThreads),
        };
        return new MatmulReport(torch.__version__, threads, rounds, ResultAllocation, matmuls, overhead);
    }

    private static OverheadResult Overhead(string op, int rounds, int calls, Func<int, double> binding, Func<int, double> native)
    {
        Progress($"{op}: warm-up, then {rounds} rounds of {calls} calls per side");
        binding(calls);
        native(calls);
        var (b, x) = Alternate(rounds, () => binding(calls), () => native(calls));
        var bNs = b.Select(s => s * 1e9 / calls).ToArray();
        var xNs = x.Select(s => s * 1e9 / calls).ToArray();
        var bMedian = MatmulReport.Median(bNs);
        var xMedian = MatmulReport.Median(xNs);
        return new OverheadResult(op, calls, bMedian, xMedian, bMedian - xMedian, bNs, xNs);
    }

    /// <summary>Runs rounds binding-then-native, then native-then-binding, and so on; returns seconds per round.</summary>
    private static (double[] Binding, double[] Native) Alternate(int rounds, Func<double> binding, Func<double> native)
    {
        var b = new double[rounds];
        var x = new double[rounds];
        for (var r = 0; r < rounds; r++)
        {
            if (r % 2 == 0)
            {
                b[r] = binding();
                Settle();
                x[r] = native();
            }
            else
            {
                x[r] = native();
                Settle();
                b[r] = binding();
            }
            Settle();
        }
        return (b, x);
    }

    /// <summary>
    /// A short pause between sides: OpenMP workers of the side that just finished spin for a
    /// while before they sleep, and on a 2-core machine they would steal from the other side.
    /// </summary>
    private static void Settle() => Thread.Sleep(50);

    private static double Flop(int n) => 2.0 * n * n * n;

    private static void Progress(string message) => Console.Error.WriteLine(message);
}
