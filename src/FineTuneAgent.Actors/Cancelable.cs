namespace FineTuneAgent.Actors;

/// <summary>An <see cref="ICancelable"/> over a <see cref="CancellationTokenSource"/>.</summary>
public sealed class Cancelable : ICancelable, IDisposable
{
    private readonly CancellationTokenSource _source = new();

    public bool IsCancellationRequested => _source.IsCancellationRequested;

    public CancellationToken Token => _source.Token;

    public void Cancel()
    {
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // already disposed: nothing left to cancel
        }
    }

    public void Dispose() => _source.Dispose();
}
