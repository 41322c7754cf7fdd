using System.Diagnostics;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Bench;

/// <summary>
/// The timed loops through the binding; bench/native/torch_driver.cpp runs the same loops in
/// C++. Inputs are made once, outside the loops; every call returns a new result tensor, which is
/// disposed before the next call (the C++ side frees its result at the end of each iteration).
/// </summary>
internal sealed class BindingSide : IDisposable
{
    private readonly Dictionary<int, (Tensor A, Tensor B)> _matrices = [];
    private readonly Tensor _x = ones([1], float32);
    private readonly Tensor _y = ones([1], float32);

    /// <summary>Seconds for <paramref name="calls"/> calls of a.matmul(b) on n×n float32 matrices.</summary>
    public double Matmul(int n, int calls)
    {
        if (!_matrices.TryGetValue(n, out var m))
            _matrices[n] = m = (randn([n, n], float32), randn([n, n], float32));
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            using var c = m.A.matmul(m.B);
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds for <paramref name="calls"/> calls of x.add(y) on 1-element tensors.</summary>
    public double Add(int calls)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            using var c = _x.add(_y);
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds for <paramref name="calls"/> calls of torch.get_num_threads(): one export, no tensors.</summary>
    public static double GetNumThreads(int calls)
    {
        long total = 0;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
            total += get_num_threads();
        var seconds = watch.Elapsed.TotalSeconds;
        GC.KeepAlive(total);
        return seconds;
    }

    public void Dispose()
    {
        foreach (var (a, b) in _matrices.Values)
        {
            a.Dispose();
            b.Dispose();
        }
        _x.Dispose();
        _y.Dispose();
    }
}
