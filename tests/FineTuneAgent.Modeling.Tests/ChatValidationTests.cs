using FineTuneAgent.Modeling.Chat;
using static FineTuneAgent.Modeling.Chat.ChatMessage;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Conversations a format cannot render: the error names the format and the message index.</summary>
public sealed class ChatValidationTests
{
    public static TheoryData<string> Formats => ["qwen3", "llama3", "llama2"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void RenderText_NoMessages_Throws(string format)
    {
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Get(format).RenderText(new Conversation()));
        Assert.Equal($"{format}: the conversation has no messages", e.Message);
        Assert.Null(e.MessageIndex);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void RenderText_UnknownRole_NamesIndexAndRole(string format)
    {
        var chat = new Conversation(User("Hi"), new ChatMessage("bot", "Hello"));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Get(format).RenderText(chat));
        Assert.Equal(1, e.MessageIndex);
        Assert.Equal($"{format}: message 1: unknown role 'bot' (expected system, user, assistant, tool)", e.Message);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void RenderText_ToolResultWithoutCall_NamesIndex(string format)
    {
        var chat = new Conversation(User("Hi"), Assistant("Let me check."), Tool("42"));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Get(format).RenderText(chat));
        Assert.Equal(2, e.MessageIndex);
        Assert.Contains("message 2: a tool result must follow an assistant message with tool calls", e.Message);
    }

    [Fact]
    public void RenderText_ToolResultsAfterCall_Accepted()
    {
        var chat = new Conversation(User("Hi"), Assistant("", null, ToolCall.FromJson("f", "{}"), ToolCall.FromJson("g", "{}")), Tool("1"), Tool("2"));
        Assert.Contains("<tool_response>\n2\n</tool_response>", ChatFormats.Qwen3.RenderText(chat).ToText());
    }

    [Fact]
    public void RenderText_Llama2Tool_Throws()
    {
        var chat = new Conversation(User("Hi"), Assistant("", null, ToolCall.FromJson("f", "{}")), Tool("1"));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Llama2.RenderText(chat));
        Assert.Equal(1, e.MessageIndex);
        Assert.Contains("no tool role or tool calls", e.Message);
    }

    [Fact]
    public void RenderText_Llama2LateSystem_Throws()
    {
        var chat = new Conversation(User("Hi"), Assistant("Hello"), ChatMessage.System("Be terse."), User("Q"));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Llama2.RenderText(chat));
        Assert.Equal(2, e.MessageIndex);
    }

    [Fact]
    public void RenderText_Llama2AssistantFirst_Throws()
    {
        var chat = new Conversation(ChatMessage.System("S"), Assistant("Hello"));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Llama2.RenderText(chat));
        Assert.Equal("llama2: message 1: roles must alternate user/assistant starting with user; expected user, got assistant", e.Message);
    }

    [Fact]
    public void RenderText_Llama3TwoToolCalls_Throws()
    {
        var chat = new Conversation(User("Hi"), Assistant("", null, ToolCall.FromJson("f", "{}"), ToolCall.FromJson("g", "{}")));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Llama3.RenderText(chat));
        Assert.Equal(1, e.MessageIndex);
        Assert.Contains("one tool call per assistant message", e.Message);
    }

    [Fact]
    public void RenderText_Llama3ToolsWithoutUserMessage_Throws()
    {
        var tools = new Conversation(ChatMessage.System("S"), Assistant("Hello")) { Tools = [System.Text.Json.JsonDocument.Parse("{}").RootElement.Clone()] };
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Llama3.RenderText(tools));
        Assert.Equal(1, e.MessageIndex);
    }

    [Fact]
    public void RenderText_ToolCallOnUserMessage_Throws()
    {
        var chat = new Conversation(new ChatMessage(ChatRoles.User, "Hi") { ToolCalls = [ToolCall.FromJson("f", "{}")] });
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Qwen3.RenderText(chat));
        Assert.Equal(0, e.MessageIndex);
    }

    [Fact]
    public void RenderText_NullContent_NamesIndex()
    {
        var chat = new Conversation(User("Hi"), new ChatMessage(ChatRoles.Assistant, null!));
        var e = Assert.Throws<ChatFormatException>(() => ChatFormats.Qwen3.RenderText(chat));
        Assert.Equal("qwen3: message 1: the assistant message has no content (use an empty string)", e.Message);
    }
}
