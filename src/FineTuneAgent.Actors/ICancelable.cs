namespace FineTuneAgent.Actors;

/// <summary>A handle to cancel scheduled work, as Akka's ICancelable.</summary>
public interface ICancelable
{
    bool IsCancellationRequested { get; }

    CancellationToken Token { get; }

    void Cancel();
}
