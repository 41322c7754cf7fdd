namespace FineTuneAgent.Core;

/// <summary>
/// An IProgress that reports on the reporting thread, in order (Progress&lt;T&gt; posts to a synchronization
/// context or the thread pool, which would reorder and delay events a stage or a view passes on).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
