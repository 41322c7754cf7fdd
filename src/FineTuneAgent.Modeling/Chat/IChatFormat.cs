namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// A model family's chat format: renders a <see cref="Conversation"/> exactly as the model's own Jinja
/// chat template does, split into segments that say which text carries loss.
/// </summary>
public interface IChatFormat
{
    /// <summary>The format's name: qwen3, llama3, llama2.</summary>
    string Name { get; }

    /// <summary>Special tokens that end an assistant turn; generation stops on their ids.</summary>
    IReadOnlyList<string> EndOfTurnTokens { get; }

    /// <summary>Strings at which generated text is cut (the end-of-turn tokens, and any plain-text markers).</summary>
    IReadOnlyList<string> StopStrings { get; }

    /// <summary>The system prompt the template inserts when a conversation has none; null when it inserts none.</summary>
    string? DefaultSystemPrompt { get; }

    RenderedChat RenderText(Conversation conversation, ChatRenderOptions? options = null);

    /// <summary>
    /// Token ids and loss mask. <paramref name="encode"/> turns text into ids without adding any special
    /// token (no BOS, no EOS) but recognising the ones written in the text; it is called once per segment.
    /// </summary>
    ChatTokens Render(Conversation conversation, ChatRenderOptions? options, Func<string, IReadOnlyList<int>> encode);
}
