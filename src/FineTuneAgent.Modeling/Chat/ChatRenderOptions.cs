namespace FineTuneAgent.Modeling.Chat;

/// <summary>How to render a conversation. Options a format has no use for are ignored by it.</summary>
public sealed record ChatRenderOptions
{
    public static ChatRenderOptions Default { get; } = new();

    /// <summary>Append the header that asks for the next assistant turn (HF's add_generation_prompt).</summary>
    public bool AddGenerationPrompt { get; init; }

    /// <summary>Qwen3's enable_thinking. Off adds an empty think block to the generation prompt, and
    /// an empty think block that opens the final assistant turn is then prompt, not loss.</summary>
    public bool EnableThinking { get; init; } = true;

    public ChatLossScope LossScope { get; init; } = ChatLossScope.AllAssistantTurns;

    /// <summary>Llama 3.1/3.2's "Today Date:" line. HF fills it with today's date; a fixed default keeps
    /// rendered data reproducible. "26 Jul 2024" is the template's own fallback.</summary>
    public string DateString { get; init; } = "26 Jul 2024";
}
