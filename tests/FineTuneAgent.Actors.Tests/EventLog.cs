namespace FineTuneAgent.Actors.Tests;

/// <summary>A thread-safe list of what happened, in order, for asserting hook and message order.</summary>
internal sealed class EventLog
{
    private readonly List<string> _events = [];

    public void Add(string e)
    {
        lock (_events)
        {
            _events.Add(e);
        }
    }

    /// <summary>Waits (at most 10 s, so a bug cannot hang the run) until an event matches.</summary>
    public async Task WaitForAsync(string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Snapshot().Contains(expected))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{expected}' never happened; log: {string.Join(", ", Snapshot())}");
            await Task.Delay(5);
        }
    }

    public List<string> Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }
}
