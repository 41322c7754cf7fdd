namespace FineTuneAgent.Actors.Dispatch;

/// <summary>
/// Runs mailboxes on the .NET thread pool. A scheduled mailbox processes its system messages and
/// then at most <see cref="Throughput"/> user messages before it yields its thread, so one busy
/// actor cannot hold a pool thread while others wait (Akka's throughput batching).
/// </summary>
internal sealed class Dispatcher(int throughput)
{
    public int Throughput { get; } = throughput > 0
        ? throughput
        : throw new ArgumentOutOfRangeException(nameof(throughput), throughput, "must be at least 1");

    public void Execute(Mailbox mailbox) => ThreadPool.UnsafeQueueUserWorkItem(mailbox, preferLocal: false);
}
