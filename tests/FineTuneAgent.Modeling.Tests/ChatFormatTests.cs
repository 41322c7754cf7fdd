using FineTuneAgent.Modeling.Chat;
using static FineTuneAgent.Modeling.Chat.ChatMessage;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Behaviour that needs no reference: options, segment kinds, the encoder contract, the registry.</summary>
public sealed class ChatFormatTests
{
    [Fact]
    public void Render_FakeEncoder_MasksExactlyTheLossSegments()
    {
        var chat = new Conversation(User("ab"), Assistant("cd"), User("e"), Assistant("f"));
        // One id per character: ids and mask line up with the text.
        var tokens = ChatFormats.Qwen3.Render(chat, null, t => t.Select(ch => (int)ch).ToArray());
        var text = ChatFormats.Qwen3.RenderText(chat).ToText();
        Assert.Equal(text, new string(tokens.InputIds.Select(i => (char)i).ToArray()));
        var masked = new string(tokens.InputIds.Where((_, i) => tokens.LossMask[i]).Select(i => (char)i).ToArray());
        Assert.Equal("cd<|im_end|><think>\n\n</think>\n\nf<|im_end|>", masked);
    }

    [Fact]
    public void Labels_Masked_IgnoreIndexElsewhere()
    {
        var tokens = new ChatTokens([5, 6, 7], [false, true, true]);
        Assert.Equal([-100, 6, 7], tokens.Labels());
        Assert.Equal([-1, 6, 7], tokens.Labels(ignoreIndex: -1));
    }

    [Fact]
    public void RenderText_Qwen3ThinkingOff_SameTextButEmptyThinkBlockIsPrompt()
    {
        var chat = new Conversation(User("Hi"), Assistant("Hello!"));
        var on = ChatFormats.Qwen3.RenderText(chat);
        var off = ChatFormats.Qwen3.RenderText(chat, new ChatRenderOptions { EnableThinking = false });
        Assert.Equal(on.ToText(), off.ToText());
        Assert.Equal(["<think>\n\n</think>\n\nHello!<|im_end|>"], on.LossSpans());
        Assert.Equal(["Hello!<|im_end|>"], off.LossSpans());
        Assert.EndsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n", off.Segments.Single(s => s.Kind == ChatSegmentKind.AssistantHeader).Text);
    }

    [Fact]
    public void RenderText_LastTurnOnly_EarlierAssistantTurnsCarryNoLoss()
    {
        var chat = new Conversation(User("Q1"), Assistant("A1"), User("Q2"), Assistant("A2"), User("Q3"));
        var rendered = ChatFormats.Llama3.RenderText(chat, new ChatRenderOptions { LossScope = ChatLossScope.LastAssistantTurn });
        var loss = Assert.Single(rendered.Segments, s => s.CarriesLoss);
        Assert.Equal(3, loss.MessageIndex);
        Assert.Equal(2, rendered.Segments.Count(s => s.Kind == ChatSegmentKind.Assistant));
    }

    [Theory]
    [InlineData("qwen3", "<|im_start|>assistant\n")]
    [InlineData("llama3", "<|start_header_id|>assistant<|end_header_id|>\n\n")]
    public void RenderText_GenerationPrompt_IsLastSegmentWithoutLoss(string format, string prompt)
    {
        var rendered = ChatFormats.Get(format).RenderText(new Conversation(User("Hi")), new ChatRenderOptions { AddGenerationPrompt = true });
        var last = rendered.Segments[^1];
        Assert.Equal(ChatSegmentKind.GenerationPrompt, last.Kind);
        Assert.Equal(prompt, last.Text);
        Assert.False(last.CarriesLoss);
        Assert.Empty(rendered.LossSpans());
    }

    [Fact]
    public void RenderText_Llama2GenerationPrompt_AddsNothing()
    {
        var chat = new Conversation(User("Hi"));
        Assert.Equal("<s>[INST] Hi [/INST]", ChatFormats.Llama2.RenderText(chat, new ChatRenderOptions { AddGenerationPrompt = true }).ToText());
    }

    [Fact]
    public void Render_Llama2_EncodesAssistantTurnWithoutItsLeadingSpace()
    {
        var encoded = new List<string>();
        ChatFormats.Llama2.Render(new Conversation(User("Hi"), Assistant("Hello!")), null, t => { encoded.Add(t); return [0]; });
        Assert.Equal(["<s>[INST] Hi [/INST]", "Hello! </s>"], encoded);
    }

    [Fact]
    public void Formats_Registry_ByNameWithTokens()
    {
        Assert.Equal(["qwen3", "llama3", "llama3.0", "llama2"], ChatFormats.All.Select(f => f.Name));
        Assert.Same(ChatFormats.Llama3, ChatFormats.Get("LLAMA3"));
        Assert.Contains("<|im_end|>", ChatFormats.Qwen3.EndOfTurnTokens);
        Assert.Contains("<|eot_id|>", ChatFormats.Llama3.StopStrings);
        Assert.Equal(["</s>"], ChatFormats.Llama2.EndOfTurnTokens);
        Assert.All(ChatFormats.All, f => Assert.Null(f.DefaultSystemPrompt));
        var e = Assert.Throws<ArgumentException>(() => ChatFormats.Get("chatml"));
        Assert.Contains("qwen3, llama3, llama3.0, llama2", e.Message);
    }
}
