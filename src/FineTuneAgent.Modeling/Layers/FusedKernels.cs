namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// Whether the layers use the shim's fused CPU kernels (RMSNorm, SwiGLU, rotary, the attention core or, with a KV
/// cache, its probabilities, the loss head's scoring) where they apply, or the eager ATen compositions they replace.
/// On by default; turned off for a scope on the calling thread, for the plain reference path that the optimised
/// one is checked against (and measured against, `fta bench train --plain`).
/// </summary>
public static class FusedKernels
{
    [ThreadStatic]
    private static bool t_off;

    public static bool Enabled => !t_off;

    /// <summary>Eager compositions on this thread until the result is disposed.</summary>
    public static IDisposable Disable()
    {
        var previous = t_off;
        t_off = true;
        return new Restore(previous);
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => t_off = previous;
    }
}
