namespace FineTuneAgent.Modeling.Chat;

/// <summary>Checks every format needs before rendering; errors name the format and the message index.</summary>
internal static class ChatValidation
{
    public static void CheckCommon(string format, Conversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var messages = conversation.Messages ?? throw Error(format, "the conversation has no message list");
        if (messages.Count == 0)
            throw Error(format, "the conversation has no messages");
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw Error(format, i, "the message is null");
            if (!ChatRoles.IsKnown(m.Role))
                throw Error(format, i, $"unknown role '{m.Role}' (expected {string.Join(", ", ChatRoles.All)})");
            if (m.Content is null)
                throw Error(format, i, $"the {m.Role} message has no content (use an empty string)");
            if (m.ToolCalls is null)
                throw Error(format, i, "tool calls are null (use an empty list)");
            if (m.ToolCalls.Count > 0 && m.Role != ChatRoles.Assistant)
                throw Error(format, i, $"only assistant messages make tool calls, not {m.Role}");
            for (var k = 0; k < m.ToolCalls.Count; k++)
                if (string.IsNullOrEmpty(m.ToolCalls[k]?.Name))
                    throw Error(format, i, $"tool call {k} has no function name");
            // The templates would render a stray tool result; as training data it answers no call.
            if (m.Role == ChatRoles.Tool && !AnswersACall(messages, i))
                throw Error(format, i, "a tool result must follow an assistant message with tool calls (or another tool result)");
        }
        if (conversation.Tools is null)
            throw Error(format, "the tool list is null (use an empty list)");
    }

    private static bool AnswersACall(IReadOnlyList<ChatMessage> messages, int toolIndex)
    {
        for (var j = toolIndex - 1; j >= 0; j--)
        {
            if (messages[j].Role == ChatRoles.Tool)
                continue;
            return messages[j].Role == ChatRoles.Assistant && messages[j].ToolCalls.Count > 0;
        }
        return false;
    }

    public static ChatFormatException Error(string format, int index, string what) =>
        new($"{format}: message {index}: {what}", index);

    public static ChatFormatException Error(string format, string what) => new($"{format}: {what}");
}
