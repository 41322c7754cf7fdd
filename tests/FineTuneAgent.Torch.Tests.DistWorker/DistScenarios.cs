using System.Diagnostics;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Torch.Tests.DistWorker;

/// <summary>
/// The collective scenarios of the two-process tests. Both ranks run the same code, as an SPMD
/// training script does, with inputs that depend on the rank; each returns its resulting tensors
/// by name, as doubles, so the test can hold rank 0's results and rank 1's (printed by the
/// worker) against literal expectations. Compiled into the worker and, linked, into the tests.
/// </summary>
internal static class DistScenarios
{
    internal static readonly string[] Names = ["all_reduce_sum", "all_reduce_avg", "all_reduce_ops", "all_reduce_list", "broadcast", "all_gather", "barrier"];

    /// <summary>How long rank 1 sleeps before the barrier in the "barrier" scenario.</summary>
    internal const int BarrierDelayMs = 1000;

    internal static Dictionary<string, double[]> Run(string scenario, ProcessGroup pg)
    {
        var r = pg.rank();
        var results = new Dictionary<string, double[]>();
        switch (scenario)
        {
            case "all_reduce_sum":
            {
                // float (2, 3): (r+1)*100 + i; int64 (4): (r+1)*(i+1).
                using var f = tensor(Pattern(6, i => (r + 1) * 100 + i).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
                using var l = tensor(Pattern(4, i => (r + 1) * (i + 1)).Select(v => (long)v).ToArray());
                pg.all_reduce(f);
                pg.all_reduce(l, ReduceOp.Sum);
                results["f"] = f.ToArray<double>();
                results["l"] = l.ToArray<double>();
                break;
            }
            case "all_reduce_avg":
            {
                // float (5): (r+1)*(i+1); int64 (3): 3r + i + 1 (averages truncate).
                using var f = tensor(Pattern(5, i => (r + 1) * (i + 1)).Select(v => (float)v).ToArray());
                using var l = tensor(Pattern(3, i => 3 * r + i + 1).Select(v => (long)v).ToArray());
                pg.all_reduce(f, ReduceOp.Avg);
                pg.all_reduce(l, ReduceOp.Avg);
                results["f"] = f.ToArray<double>();
                results["l"] = l.ToArray<double>();
                break;
            }
            case "all_reduce_ops":
            {
                // rank 0: [1, 5, -2]; rank 1: [2, 4, 3].
                float[] values = r == 0 ? [1, 5, -2] : [2, 4, 3];
                foreach (var (name, op) in new[] { ("max", ReduceOp.Max), ("min", ReduceOp.Min), ("product", ReduceOp.Product) })
                {
                    using var t = tensor(values);
                    pg.all_reduce(t, op);
                    results[name] = t.ToArray<double>();
                }
                break;
            }
            case "all_reduce_list":
            {
                // Mixed dtypes and shapes and a non-contiguous view, reduced in one call:
                // a float (2, 2): r+1 + i/2; b int64 (3): (r+1)*10 + i; c the transpose (3, 2) of a
                // float (2, 3) filled with (r+1)*i; d float64 (1): r+1.
                using var a = tensor(Pattern(4, i => r + 1 + i * 0.5).Select(v => (float)v).ToArray(), new long[] { 2, 2 });
                using var b = tensor(Pattern(3, i => (r + 1) * 10 + i).Select(v => (long)v).ToArray());
                using var cBase = tensor(Pattern(6, i => (r + 1) * i).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
                using var c = cBase.t();
                using var d = tensor(new double[] { r + 1 });
                pg.all_reduce([a, b, c, d]);
                results["a"] = a.ToArray<double>();
                results["b"] = b.ToArray<double>();
                results["c"] = c.ToArray<double>();
                results["c_base"] = cBase.ToArray<double>();
                results["d"] = d.ToArray<double>();
                break;
            }
            case "broadcast":
            {
                // From rank 1: [7, 8, 9, 10] over zeros. Then a list from rank 0: int64 [42, 43] and
                // float (2, 2) [0, .25, .5, .75] over -1s.
                using var t = r == 1 ? tensor(new float[] { 7, 8, 9, 10 }) : zeros([4], float32);
                pg.broadcast(t, src: 1);
                using var l = r == 0 ? tensor(new long[] { 42, 43 }) : full([2], -1, int64);
                using var f = r == 0 ? tensor(new float[] { 0, 0.25f, 0.5f, 0.75f }, new long[] { 2, 2 }) : full([2, 2], -1, float32);
                pg.broadcast([l, f], src: 0);
                results["t"] = t.ToArray<double>();
                results["l"] = l.ToArray<double>();
                results["f"] = f.ToArray<double>();
                break;
            }
            case "all_gather":
            {
                // Each rank contributes (2, 3) filled with (r+1)*10 + i.
                using var input = tensor(Pattern(6, i => (r + 1) * 10 + i).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
                var gathered = pg.all_gather(input);
                for (var k = 0; k < gathered.Length; k++)
                    results[$"out{k}"] = gathered[k].ToArray<double>();
                results["shape"] = gathered[0].shape.Select(s => (double)s).ToArray();
                foreach (var g in gathered)
                    g.Dispose();
                break;
            }
            case "barrier":
            {
                // Both ranks pass one all_reduce together; then rank 1 sleeps before the barrier,
                // and rank 0's barrier must last about as long.
                using var sync = ones([1]);
                pg.all_reduce(sync);
                if (r == 1)
                    Thread.Sleep(BarrierDelayMs);
                var clock = Stopwatch.StartNew();
                pg.barrier();
                results["barrier_ms"] = [clock.Elapsed.TotalMilliseconds];
                break;
            }
            default:
                throw new ArgumentException($"unknown scenario '{scenario}'", nameof(scenario));
        }
        return results;
    }

    private static double[] Pattern(int n, Func<int, double> value) => Enumerable.Range(0, n).Select(value).ToArray();
}
