namespace FineTuneAgent.Agent.Cluster;

/// <summary>
/// The φ accrual failure detector (Hayashibara et al., 2004), as Akka uses it: the intervals between a peer's
/// heartbeats are kept in a window; the suspicion that the peer is gone, after <c>t</c> of silence, is
/// φ(t) = −log10(1 − F(t)), F the normal distribution with the window's mean (plus an acceptable pause) and standard
/// deviation (at least a floor, so a perfectly regular peer is not declared dead by a few ms of jitter). φ = 1 means a
/// 10 % chance that a heartbeat this late is still normal, φ = 8 one in 10^8. A peer is unreachable while φ exceeds
/// the threshold. With a 1 s interval, a 3 s acceptable pause and threshold 8, a peer that stops is unreachable about
/// 3 + 1 + 5.6 × 0.1 ≈ 4.6 s after its last heartbeat (the mean, the pause, and 5.6 floor deviations: Φ⁻¹(1 − 10⁻⁸)).
/// Not thread-safe: its owner (the cluster node actor) serialises calls.
/// </summary>
public sealed class PhiAccrualFailureDetector(TimeSpan acceptablePause, TimeSpan minStdDeviation, TimeSpan firstHeartbeatEstimate, int windowSize = 200)
{
    private readonly Queue<double> _intervals = new();
    private double _sum;
    private double _squares;
    private DateTimeOffset? _last;

    public DateTimeOffset? LastHeartbeat => _last;

    /// <summary>A heartbeat from the peer arrived at <paramref name="at"/>.</summary>
    public void Heartbeat(DateTimeOffset at)
    {
        if (_last is { } last)
        {
            var interval = (at - last).TotalMilliseconds;
            if (interval >= 0)
                Add(interval);
        }
        else
        {
            // Bootstrap as Akka does: a guess of the interval with a quarter of it as deviation.
            var guess = firstHeartbeatEstimate.TotalMilliseconds;
            Add(guess - guess / 4);
            Add(guess + guess / 4);
        }
        _last = at;
    }

    private void Add(double interval)
    {
        _intervals.Enqueue(interval);
        _sum += interval;
        _squares += interval * interval;
        if (_intervals.Count > windowSize)
        {
            var old = _intervals.Dequeue();
            _sum -= old;
            _squares -= old * old;
        }
    }

    /// <summary>φ at <paramref name="now"/>; 0 before the first heartbeat (a peer not heard from yet is not suspected).</summary>
    public double Phi(DateTimeOffset now)
    {
        if (_last is not { } last || _intervals.Count == 0)
            return 0;
        var n = _intervals.Count;
        var mean = _sum / n + acceptablePause.TotalMilliseconds;
        var variance = Math.Max(0, _squares / n - (_sum / n) * (_sum / n));
        var std = Math.Max(Math.Sqrt(variance), minStdDeviation.TotalMilliseconds);
        var elapsed = (now - last).TotalMilliseconds;
        return Phi(elapsed, mean, std);
    }

    /// <summary>
    /// −log10(1 − Φ((t − mean) / std)) with the normal tail computed as erfc(z/√2)/2 (exact, no logistic
    /// approximation), capped where the tail underflows.
    /// </summary>
    public static double Phi(double elapsedMs, double meanMs, double stdMs)
    {
        var z = (elapsedMs - meanMs) / stdMs;
        var tail = 0.5 * Erfc(z / Math.Sqrt(2));
        return tail <= 1e-300 ? 300 : -Math.Log10(tail);
    }

    public bool IsAvailable(DateTimeOffset now, double threshold) => Phi(now) < threshold;

    /// <summary>The complementary error function (Numerical Recipes' erfcc: fractional error below 1.2e-7 everywhere).</summary>
    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
