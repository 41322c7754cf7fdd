using System.Globalization;
using System.Text.Json.Nodes;

namespace FineTuneAgent.Agent.Daemon;

/// <summary>
/// Reads the event stream <see cref="AgentApi"/> writes for a run, line by line: <c>id:</c> and <c>data:</c> lines
/// make an event, a blank line ends it; <c>event:</c> lines and <c>:</c> comments (keep-alives) carry nothing the
/// data does not. An event without an id is numbered after the last one. Used by every client of the stream (the
/// CLI, the console, a member mirroring a run it placed elsewhere), so they agree on where to resume.
/// </summary>
public sealed class ServerSentEventParser(long after = 0)
{
    private long? _id;
    private string? _data;

    /// <summary>The number of the last complete event (for Last-Event-ID when reconnecting).</summary>
    public long LastId { get; private set; } = after;

    /// <summary>Takes one line; returns the event it completes, if any.</summary>
    public (long Id, JsonObject Event)? Line(string line)
    {
        if (line.StartsWith("id: ", StringComparison.Ordinal))
            _id = long.Parse(line.AsSpan(4), CultureInfo.InvariantCulture);
        else if (line.StartsWith("data: ", StringComparison.Ordinal))
            _data = line[6..];
        else if (line.Length == 0 && _data is not null)
        {
            LastId = _id ?? LastId + 1;
            var json = JsonNode.Parse(_data) as JsonObject ?? throw new InvalidDataException($"event {LastId}: its data is not a JSON object");
            (_id, _data) = (null, null);
            return (LastId, json);
        }
        return null;
    }
}
