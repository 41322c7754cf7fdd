namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// One message of a conversation. <see cref="Role"/> is a string, as in the data it comes from, so an
/// unknown role reaches the formats and is reported with its index (see <see cref="ChatRoles"/>).
/// </summary>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The assistant's reasoning (Qwen3's <c>reasoning_content</c>); null means "parse it from
    /// <see cref="Content"/>", as the template does.</summary>
    public string? ReasoningContent { get; init; }

    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    public static ChatMessage System(string content) => new(ChatRoles.System, content);

    public static ChatMessage User(string content) => new(ChatRoles.User, content);

    public static ChatMessage Assistant(string content, string? reasoning = null, params IReadOnlyList<ToolCall> toolCalls) =>
        new(ChatRoles.Assistant, content) { ReasoningContent = reasoning, ToolCalls = toolCalls };

    public static ChatMessage Tool(string content) => new(ChatRoles.Tool, content);
}
