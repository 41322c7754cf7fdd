using System.Text.Json;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// Messages in order, and the tools (JSON schemas, usually <c>{"type": "function", "function": {...}}</c>)
/// offered to the assistant. An empty tool list means no tools.
/// </summary>
public sealed record Conversation(IReadOnlyList<ChatMessage> Messages)
{
    public IReadOnlyList<JsonElement> Tools { get; init; } = [];

    public Conversation(params ChatMessage[] messages) : this((IReadOnlyList<ChatMessage>)messages) { }
}
