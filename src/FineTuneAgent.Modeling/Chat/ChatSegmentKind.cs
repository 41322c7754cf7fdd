namespace FineTuneAgent.Modeling.Chat;

/// <summary>What a piece of rendered chat text is.</summary>
public enum ChatSegmentKind
{
    /// <summary>Text that belongs to no message: a BOS token.</summary>
    Prefix,

    /// <summary>A system turn, with whatever the template adds to it (Llama 3's date header, Qwen3's tool list).</summary>
    System,

    /// <summary>A user turn, header and end token included.</summary>
    User,

    /// <summary>The role header that opens an assistant turn (<c>&lt;|im_start|&gt;assistant\n</c>).</summary>
    AssistantHeader,

    /// <summary>What the assistant produces: reasoning, content, tool calls and its end-of-turn token.</summary>
    Assistant,

    /// <summary>A tool result, with the template's wrapping.</summary>
    Tool,

    /// <summary>Text after an end-of-turn token that no turn trains on (Qwen's newline after <c>&lt;|im_end|&gt;</c>).</summary>
    Separator,

    /// <summary>The header that asks the model for the next assistant turn.</summary>
    GenerationPrompt,
}
