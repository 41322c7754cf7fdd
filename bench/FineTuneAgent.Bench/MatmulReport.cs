using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Bench;

/// <summary>
/// One matrix size: GFLOP/s of every round on each side, their medians, the ratio of the medians,
/// and the median of the per-round ratios (each binding round against the native round beside it,
/// which cancels load that drifts slower than a round).
/// </summary>
public sealed record MatmulResult(int Size, int CallsPerRound, double BindingGflops, double NativeGflops, double Ratio, double PairedRatio,
    IReadOnlyList<double> BindingRounds, IReadOnlyList<double> NativeRounds);

/// <summary>One trivial op: nanoseconds per call of every round on each side, and their medians.</summary>
public sealed record OverheadResult(string Op, int CallsPerRound, double BindingNs, double NativeNs, double ExtraNs,
    IReadOnlyList<double> BindingRounds, IReadOnlyList<double> NativeRounds);

/// <summary>What `matmul` measured, printed as a table or as JSON.</summary>
public sealed record MatmulReport(string Libtorch, int Threads, int Rounds, string ResultAllocation,
    IReadOnlyList<MatmulResult> Matmul, IReadOnlyList<OverheadResult> Overhead)
{
    /// <summary>The acceptance target: the binding's GFLOP/s at this size is at least this share of native.</summary>
    public const int TargetSize = 1024;
    public const double TargetRatio = 0.95;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToTable()
    {
        var s = new StringBuilder();
        s.AppendLine(Inv($"libtorch {Libtorch}, {Threads} intra-op thread(s) on both sides, {Rounds} rounds alternating binding/native, medians (min-max)"));
        s.AppendLine("binding: FineTuneAgent.Torch (C#) -> libfta_torch.so; native: torch_driver (C++); same libtorch, one process each");
        s.AppendLine($"matmul: float32 on CPU; {ResultAllocation}");
        s.AppendLine();
        s.AppendLine(Row("op", "calls/round", "binding", "native", "binding/native"));
        foreach (var m in Matmul)
        {
            s.AppendLine(Row(Inv($"matmul {m.Size}x{m.Size}"), Inv($"{m.CallsPerRound}"),
                Inv($"{m.BindingGflops,6:F1} GFLOP/s ({m.BindingRounds.Min():F0}-{m.BindingRounds.Max():F0})"),
                Inv($"{m.NativeGflops,6:F1} GFLOP/s ({m.NativeRounds.Min():F0}-{m.NativeRounds.Max():F0})"),
                Inv($"{m.Ratio:P1} (paired rounds: {m.PairedRatio:P1})")));
        }
        foreach (var o in Overhead)
        {
            s.AppendLine(Row(o.Op, Inv($"{o.CallsPerRound}"),
                Inv($"{o.BindingNs,6:F0} ns/call ({o.BindingRounds.Min():F0}-{o.BindingRounds.Max():F0})"),
                Inv($"{o.NativeNs,6:F0} ns/call ({o.NativeRounds.Min():F0}-{o.NativeRounds.Max():F0})"),
                Inv($"{o.ExtraNs:+0;-0} ns/call")));
        }
        var target = Matmul.FirstOrDefault(m => m.Size == TargetSize);
        if (target is not null)
        {
            s.AppendLine();
            var medians = Inv($"ratio of medians {target.Ratio:P1} ({Met(target.Ratio)})");
            var paired = Inv($"paired rounds {target.PairedRatio:P1} ({Met(target.PairedRatio)})");
            s.AppendLine(Inv($"target: binding >= {TargetRatio:P0} of native at {TargetSize}: {medians}, {paired}"));
        }
        return s.ToString();
    }

    private static string Met(double ratio) => ratio >= TargetRatio ? "met" : "NOT met";

    private static string Row(string op, string calls, string binding, string native, string ratio) =>
        $"{op,-26} {calls,11}  {binding,-30} {native,-30} {ratio}";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
