using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// A ShareGPT row to a conversation, as LLaMA-Factory's <c>_convert_sharegpt</c> does: a leading system
/// message (or the system column), then turns that alternate user side (user, observation) and
/// assistant side (assistant, function_call), ending on the assistant side. function_call content is
/// JSON (<c>{"name", "arguments"}</c> or a list of them) and becomes the assistant's tool calls;
/// observation becomes a tool result. The tools column (a JSON list, or its text) offers tools.
/// </summary>
internal static class ShareGptConverter
{
    private enum Side { User, Observation, Assistant, Function, System }

    public static Conversation Convert(RawRow row, DatasetColumns columns, DatasetTags tags)
    {
        var f = new RowFields(row);
        var listName = columns.Messages ?? (f.Has("conversations") || !f.Has("messages") ? "conversations" : "messages");
        var list = f.OptionalArray(listName)
            ?? throw f.Error(columns.Messages is null
                ? "missing column (columns.messages): the row has neither 'conversations' nor 'messages'"
                : "missing column (columns.messages)", listName);

        var messages = new List<ChatMessage>();
        var turn = 0; // turns after the system message: even on the user side, odd on the assistant side
        var index = 0;
        foreach (var m in list.EnumerateArray())
        {
            var path = $"{listName}[{index}]";
            if (m.ValueKind != JsonValueKind.Object)
                throw f.WrongType(path, "a message object", m);
            var roleKey = tags.RoleTag ?? (m.TryGetProperty("from", out _) ? "from" : "role");
            var contentKey = tags.ContentTag ?? (roleKey == "from" ? "value" : "content");
            var role = String(f, m, roleKey, path) ?? throw f.Error($"missing '{roleKey}' (tags.role_tag)", path);
            var side = SideOf(role, tags) ?? throw f.Error(
                $"unknown role '{role}' (expected {tags.UserTag}, {tags.AssistantTag}, {tags.SystemTag}, {tags.FunctionTag}, {tags.ObservationTag}, or user, assistant, system, tool)",
                $"{path}.{roleKey}");
            var content = String(f, m, contentKey, path) ?? (side == Side.Function ? null : throw f.Error($"missing '{contentKey}' (tags.content_tag)", path));

            if (side == Side.System)
            {
                if (index != 0)
                    throw f.Error("a system message may only open the conversation", $"{path}.{roleKey}");
                messages.Add(ChatMessage.System(content!));
                index++;
                continue;
            }
            var expectUser = turn % 2 == 0;
            if (expectUser != side is Side.User or Side.Observation)
                throw f.Error(expectUser
                    ? $"expected a user turn ({tags.UserTag} or {tags.ObservationTag}), got '{role}'; turns must alternate user, assistant"
                    : $"expected an assistant turn ({tags.AssistantTag} or {tags.FunctionTag}), got '{role}'; turns must alternate user, assistant",
                    $"{path}.{roleKey}");
            var reasoning = String(f, m, tags.ReasoningTag, path);
            messages.Add(side switch
            {
                Side.User => ChatMessage.User(content!),
                Side.Observation => ChatMessage.Tool(content!),
                Side.Assistant => ChatMessage.Assistant(content!, reasoning),
                _ => ChatMessage.Assistant("", reasoning, ToolCalls(f, m.GetProperty(contentKey), $"{path}.{contentKey}")),
            });
            turn++;
            index++;
        }
        if (turn == 0)
            throw f.Error("the conversation has no user and assistant turns", listName);
        if (turn % 2 == 1)
            throw f.Error("the conversation must end with an assistant turn (the answer to learn)", listName);

        if (messages[0].Role != ChatRoles.System && f.OptionalString(columns.System) is { Length: > 0 } system)
            messages.Insert(0, ChatMessage.System(system));
        if (f.OptionalString(columns.Reasoning) is { } rowReasoning && messages[^1].ReasoningContent is null)
            messages[^1] = messages[^1] with { ReasoningContent = rowReasoning };
        return new Conversation(messages) { Tools = Tools(f, columns.Tools) };
    }

    private static Side? SideOf(string role, DatasetTags tags)
    {
        if (role == tags.UserTag || role == ChatRoles.User) return Side.User;
        if (role == tags.AssistantTag || role == ChatRoles.Assistant) return Side.Assistant;
        if (role == tags.SystemTag || role == ChatRoles.System) return Side.System;
        if (role == tags.ObservationTag || role == ChatRoles.Tool) return Side.Observation;
        if (role == tags.FunctionTag) return Side.Function;
        return null;
    }

    private static string? String(RowFields f, JsonElement message, string key, string path)
    {
        if (!message.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw f.WrongType($"{path}.{key}", "a string", v);
    }

    /// <summary>function_call content: JSON text (or JSON) of one call or a list of calls.</summary>
    private static ToolCall[] ToolCalls(RowFields f, JsonElement content, string field)
    {
        JsonElement json;
        if (content.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var doc = JsonDocument.Parse(content.GetString()!);
                json = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw f.Error($"a function call must be JSON ({{\"name\": ..., \"arguments\": {{...}}}}): {e.Message}", field);
            }
        }
        else
            json = content;
        var calls = json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToArray() : [json];
        return calls.Select((c, k) =>
        {
            if (c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                throw f.Error($"function call {k} must be an object with a string 'name'", field);
            var args = c.TryGetProperty("arguments", out var a) ? a.Clone() : JsonSerializer.SerializeToElement(new JsonObject());
            return new ToolCall(name.GetString()!, args);
        }).ToArray();
    }

    /// <summary>The tools column: a JSON list (or its text) of function schemas, each wrapped as
    /// <c>{"type": "function", "function": schema}</c> unless it already is.</summary>
    private static JsonElement[] Tools(RowFields f, string column)
    {
        if (f.Optional(column) is not { } value)
            return [];
        JsonNode? node;
        try
        {
            node = value.ValueKind == JsonValueKind.String
                ? (value.GetString()!.Trim().Length == 0 ? null : JsonNode.Parse(value.GetString()!))
                : JsonNode.Parse(value.GetRawText());
        }
        catch (JsonException e)
        {
            throw f.Error($"must be a JSON list of tools: {e.Message}", column);
        }
        if (node is null)
            return [];
        if (node is not JsonArray tools)
            throw f.Error("must be a JSON list of tools", column);
        return tools.Select((t, k) =>
        {
            if (t is not JsonObject tool)
                throw f.Error($"tool {k} must be a JSON object", column);
            var wrapped = tool.ContainsKey("function") ? tool.DeepClone() : new JsonObject { ["type"] = "function", ["function"] = tool.DeepClone() };
            return JsonSerializer.SerializeToElement(wrapped);
        }).ToArray();
    }
}
