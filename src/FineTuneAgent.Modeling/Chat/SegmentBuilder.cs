namespace FineTuneAgent.Modeling.Chat;

/// <summary>Collects a format's segments and decides which assistant text carries loss.</summary>
internal sealed class SegmentBuilder(Conversation conversation, ChatRenderOptions options)
{
    private readonly List<ChatSegment> _segments = [];
    private readonly int _lastAssistant = LastAssistantIndex(conversation);

    public ChatRenderOptions Options { get; } = options;

    public void Add(string text, ChatSegmentKind kind, int? messageIndex = null)
    {
        if (text.Length > 0)
            _segments.Add(new ChatSegment(text, kind, false, messageIndex));
    }

    /// <summary>What assistant <paramref name="messageIndex"/> produces, up to and including its end token.</summary>
    public void AddAssistant(string text, int messageIndex)
    {
        var loss = Options.LossScope == ChatLossScope.AllAssistantTurns || messageIndex == _lastAssistant;
        if (text.Length > 0)
            _segments.Add(new ChatSegment(text, ChatSegmentKind.Assistant, loss, messageIndex));
    }

    public RenderedChat Build() => new(_segments.ToArray());

    private static int LastAssistantIndex(Conversation conversation)
    {
        for (var i = conversation.Messages.Count - 1; i >= 0; i--)
            if (conversation.Messages[i].Role == ChatRoles.Assistant)
                return i;
        return -1;
    }
}
