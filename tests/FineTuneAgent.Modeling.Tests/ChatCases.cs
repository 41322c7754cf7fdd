using System.Text.Json;
using FineTuneAgent.Modeling.Chat;
using static FineTuneAgent.Modeling.Chat.ChatMessage;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>The conversations rendered against the reference templates. Expected loss spans are literal.</summary>
internal static class ChatCases
{
    private static readonly ChatRenderOptions Default = ChatRenderOptions.Default;
    private static readonly ChatRenderOptions Prompt = new() { AddGenerationPrompt = true };
    private static readonly ChatRenderOptions NoThinking = new() { EnableThinking = false };
    private static readonly ChatRenderOptions LastOnly = new() { LossScope = ChatLossScope.LastAssistantTurn };

    private static readonly JsonElement[] WeatherTools =
    [
        Json("""{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city, e.g. \"Zürich\"", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}"""),
        Json("""{"type": "function", "function": {"name": "get_time", "description": "Local time\n(24h)", "parameters": {"type": "object", "properties": {}}}}"""),
    ];

    public static IReadOnlyList<ChatCase> All { get; } =
    [
        // ---- qwen3
        new("qwen3-single", ChatFormats.Qwen3, new(User("Hi"), Assistant("Hello!")), Default,
            "<think>\n\n</think>\n\nHello!<|im_end|>"),
        new("qwen3-system-prompt", ChatFormats.Qwen3, new(ChatMessage.System("You are helpful."), User("Hi")), Prompt),
        new("qwen3-prompt-thinking-off", ChatFormats.Qwen3, new(User("Hi")), Prompt with { EnableThinking = false }),
        new("qwen3-final-thinking-off", ChatFormats.Qwen3, new(User("Hi"), Assistant("Hello!")), NoThinking,
            "Hello!<|im_end|>"),
        new("qwen3-reasoning-field", ChatFormats.Qwen3, new(ChatMessage.System("Be brief."), User("Hi"), Assistant("Hello!", reasoning: "Greet back.")), Default,
            "<think>\nGreet back.\n</think>\n\nHello!<|im_end|>"),
        new("qwen3-reasoning-parsed", ChatFormats.Qwen3, new(User("Hi"), Assistant("<think>\n\nGreet back.\n</think>\n\n\nHello!")), NoThinking,
            "<think>\nGreet back.\n</think>\n\nHello!<|im_end|>"),
        new("qwen3-multi-turn", ChatFormats.Qwen3,
            new(User("Q1"), Assistant("<think>r1</think>A1"), User("Q2"), Assistant("A2", reasoning: "\n r2 \n")), Default,
            "A1<|im_end|>", "<think>\n r2 \n</think>\n\nA2<|im_end|>"),
        new("qwen3-multi-turn-history-reasoning-field", ChatFormats.Qwen3,
            new(ChatMessage.System("S"), User("Q1"), Assistant("A1", reasoning: "dropped"), User("Q2")), Prompt,
            "A1<|im_end|>"),
        new("qwen3-last-turn-only", ChatFormats.Qwen3,
            new(User("Q1"), Assistant("A1"), User("Q2"), Assistant("A2")), LastOnly,
            "<think>\n\n</think>\n\nA2<|im_end|>"),
        new("qwen3-late-system", ChatFormats.Qwen3,
            new(User("Q1"), Assistant("A1"), ChatMessage.System("Now answer in French."), User("Q2"), Assistant("R2")), Default,
            "A1<|im_end|>", "<think>\n\n</think>\n\nR2<|im_end|>"),
        new("qwen3-padded", ChatFormats.Qwen3,
            new(ChatMessage.System("  Be brief.  "), User("  Hi \n"), Assistant("  Hello!  "), User("\tAgain\t"), Assistant("\n\n  Bye.  \n")), Default,
            "  Hello!  <|im_end|>", "<think>\n\n</think>\n\n  Bye.  \n<|im_end|>"),
        new("qwen3-tools", ChatFormats.Qwen3,
            new Conversation(
                ChatMessage.System("You are a weather bot."),
                User("Weather and time in Zürich?"),
                Assistant("Let me look.", reasoning: "Need both tools.",
                    ToolCall.FromJson("get_weather", """{"city": "Zürich", "unit": "c", "extra": {"a": [1, 2.5, true, null], "q": "say \"hi\"\n"}}"""),
                    ToolCall.FromJson("get_time", "{}")),
                Tool("""{"temp": 21}"""),
                Tool("14:05"),
                Assistant("<think>\nCombine.\n</think>\n\nIt is 21 °C at 14:05."))
            { Tools = WeatherTools }, Default,
            "<think>\nNeed both tools.\n</think>\n\nLet me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\", \"unit\": \"c\", \"extra\": {\"a\": [1, 2.5, true, null], \"q\": \"say \\\"hi\\\"\\n\"}}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call><|im_end|>",
            "<think>\nCombine.\n</think>\n\nIt is 21 °C at 14:05.<|im_end|>"),
        new("qwen3-tools-no-system-string-arguments", ChatFormats.Qwen3,
            new Conversation(
                User("Time?"),
                Assistant("", reasoning: null, new ToolCall("get_time", Json("\"{\\\"tz\\\":\\\"UTC\\\"}\""))),
                Tool("14:05"))
            { Tools = WeatherTools }, Prompt,
            "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\":\"UTC\"}}\n</tool_call><|im_end|>"),
        // History content that starts with a newline: the whole text merges it with the header's newline.
        new("qwen3-newline-led-history", ChatFormats.Qwen3,
            new(User("Q1"), Assistant("\nA1"), User("Q2")), Prompt,
            "\nA1<|im_end|>") { TokenBoundaryHolds = false },

        // ---- llama3 (3.2 and 3.1 templates)
        new("llama3-system-prompt", ChatFormats.Llama3, new(ChatMessage.System("You are helpful."), User("Hi")), Prompt),
        new("llama3-no-system", ChatFormats.Llama3, new(User("Hi"), Assistant("Hello!")), Default,
            "Hello!<|eot_id|>"),
        new("llama3-template-default-date", ChatFormats.Llama3, new(User("Hi"), Assistant("Hello!")), Default,
            "Hello!<|eot_id|>") { SendDate = false },
        new("llama3-explicit-date", ChatFormats.Llama3, new(ChatMessage.System("S"), User("Hi")), Prompt with { DateString = "05 Mar 2025" }),
        new("llama3-multi-turn-padded", ChatFormats.Llama3,
            new(ChatMessage.System("  You are helpful. \n"), User(" Hi  "), Assistant("\n Hello! \n"), User("\tQ2\n\n"), Assistant("  A2")), Default,
            "Hello!<|eot_id|>", "A2<|eot_id|>"),
        new("llama3-late-system-last-only", ChatFormats.Llama3,
            new(User("Q1"), Assistant("A1"), ChatMessage.System("Be terse."), User("Q2"), Assistant("A2")), LastOnly,
            "A2<|eot_id|>"),
        new("llama3-tools", ChatFormats.Llama3,
            new Conversation(
                ChatMessage.System("You are a weather bot."),
                User("  Weather in Zürich?  "),
                Assistant("", reasoning: null, ToolCall.FromJson("get_weather", """{"city": "Zürich", "extra": {"a": [1, 2.5], "e": {}, "l": []}}""")),
                Tool("""{"temp": 21, "note": "sunny"}"""),
                Assistant("It is 21 °C."))
            { Tools = WeatherTools }, Prompt,
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Zürich\", \"extra\": {\"a\": [1, 2.5], \"e\": {}, \"l\": []}}}<|eot_id|>",
            "It is 21 °C.<|eot_id|>"),

        // ---- llama3.0 (Meta-Llama-3-Instruct template: no date header, no tools). The reference copy is the
        // release-day template, which appends the assistant header even without add_generation_prompt (Meta's
        // current one checks it, as we do), so these cases ask for the generation prompt.
        new("llama30-system-prompt", ChatFormats.Llama30, new(ChatMessage.System("You are helpful."), User("Hi")), Prompt),
        new("llama30-multi-turn-padded", ChatFormats.Llama30,
            new(ChatMessage.System("  You are helpful. \n"), User(" Hi  "), Assistant("\n Hello! \n"), User("\tQ2\n\n"), Assistant("  A2")), Prompt,
            "Hello!<|eot_id|>", "A2<|eot_id|>"),
        new("llama30-no-system-last-only", ChatFormats.Llama30,
            new(User("Q1"), Assistant("A1"), User("Q2"), Assistant("A2")), LastOnly with { AddGenerationPrompt = true },
            "A2<|eot_id|>"),

        // ---- llama2
        new("llama2-single", ChatFormats.Llama2, new(User("Hi"), Assistant("Hello!")), Default,
            " Hello! </s>"),
        new("llama2-system-multi-turn", ChatFormats.Llama2,
            new(ChatMessage.System("You are helpful."), User("Hi"), Assistant("Hello!"), User("How are you?"), Assistant("Fine, thanks.")), Default,
            " Hello! </s>", " Fine, thanks. </s>"),
        new("llama2-padded", ChatFormats.Llama2,
            new(ChatMessage.System(" Be brief. "), User("  Hi  "), Assistant(" Hello!  "), User("\tQ2\n"), Assistant("\nA2 ")), Default,
            " Hello! </s>", " A2 </s>"),
        new("llama2-prompt", ChatFormats.Llama2, new(User("Hi"), Assistant("Hello!"), User("Bye")), Prompt,
            " Hello! </s>"),
        new("llama2-last-turn-only", ChatFormats.Llama2,
            new(User("Q1"), Assistant("A1"), User("Q2"), Assistant("A2")), LastOnly,
            " A2 </s>"),
        new("llama2-not-alternating", ChatFormats.Llama2, new(User("Hi"), User("Hi again")), Default),
    ];

    public static ChatCase Get(string id) => All.Single(c => c.Id == id);

    public static TheoryData<string> Ids(string format) => [.. All.Where(c => c.Format.Name == format).Select(c => c.Id)];

    public static TheoryData<string> RenderableIds() => [.. All.Where(c => c.Id != "llama2-not-alternating").Select(c => c.Id)];

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
