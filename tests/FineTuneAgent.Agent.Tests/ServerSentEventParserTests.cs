using FineTuneAgent.Agent.Daemon;

namespace FineTuneAgent.Agent.Tests;

/// <summary>The stream format the agent writes, read back: ids, data, comments, the blank line that ends an event.</summary>
public sealed class ServerSentEventParserTests
{
    private static List<(long Id, string Event)> Parse(ServerSentEventParser parser, params string[] lines) =>
        lines.Select(parser.Line).OfType<(long, System.Text.Json.Nodes.JsonObject)>().Select(e => (e.Item1, (string)e.Item2["event"]!)).ToList();

    [Fact]
    public void EventsEndAtABlankLine_CommentsAndEventNamesCarryNothing_AndAnEventWithoutAnIdFollowsTheLast()
    {
        var parser = new ServerSentEventParser(after: 4);
        var events = Parse(parser,
            ": fta agent run events", "",
            "id: 5", "event: step", "data: {\"event\":\"step\"}", "",
            ": keep-alive", "",
            "data: {\"event\":\"eval\"}", "",
            "id: 9", "data: {\"event\":\"outcome\"}");
        Assert.Equal([(5L, "step"), (6L, "eval")], events); // the outcome has no blank line yet: not complete
        Assert.Equal(6, parser.LastId);
        Assert.Equal([(9L, "outcome")], Parse(parser, ""));
    }

    [Fact]
    public void DataThatIsNotAJsonObject_IsAnErrorNamingTheEvent()
    {
        var parser = new ServerSentEventParser();
        parser.Line("id: 3");
        parser.Line("data: [1, 2]");
        var e = Assert.Throws<InvalidDataException>(() => parser.Line(""));
        Assert.Contains("event 3", e.Message);
    }
}
