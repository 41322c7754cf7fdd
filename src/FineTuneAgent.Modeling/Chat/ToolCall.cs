using System.Text.Json;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// A function call made by the assistant. <see cref="Arguments"/> is kept as JSON because templates
/// tell the two shapes apart: an object is serialised the way Python's json.dumps does, a JSON string
/// is emitted as its raw text by Qwen3's template (OpenAI-style "arguments" strings).
/// </summary>
public sealed record ToolCall(string Name, JsonElement Arguments)
{
    /// <summary>A call whose arguments are given as JSON text, e.g. <c>{"city": "Paris"}</c>.</summary>
    public static ToolCall FromJson(string name, string argumentsJson)
    {
        using var doc = JsonDocument.Parse(argumentsJson);
        return new ToolCall(name, doc.RootElement.Clone());
    }
}
