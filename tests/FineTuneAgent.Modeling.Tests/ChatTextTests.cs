using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Our rendered text against the model's own Jinja template, case by case (see <see cref="ChatCases"/>).</summary>
[Collection(ChatReferenceCollection.Name)]
public sealed class ChatTextTests(ChatReferenceFixture reference)
{
    public static TheoryData<string> Renderable => ChatCases.RenderableIds();

    [Theory]
    [MemberData(nameof(Renderable))]
    public void RenderText_Case_EqualsJinjaTemplate(string id)
    {
        var c = ChatCases.Get(id);
        var expected = reference[id];
        var actual = c.Format.RenderText(c.Conversation, c.Options).ToText();
        foreach (var template in ChatReferenceFixture.TemplatesOf(c.Format))
        {
            Assert.False(expected.ErrorByTemplate.ContainsKey(template), $"{template} rejected {id}: {expected.ErrorByTemplate.GetValueOrDefault(template)}");
            Assert.Equal(expected.TextByTemplate[template], actual);
        }
    }

    [Theory]
    [MemberData(nameof(Renderable))]
    public void LossSpans_Case_AreTheAssistantOutputWithItsEndToken(string id)
    {
        var c = ChatCases.Get(id);
        var rendered = c.Format.RenderText(c.Conversation, c.Options);
        Assert.Equal(c.LossSpans, rendered.LossSpans());
    }

    [Fact]
    public void RenderText_NotAlternatingLlama2_RejectedLikeTheTemplate()
    {
        var c = ChatCases.Get("llama2-not-alternating");
        Assert.Contains("must alternate", reference[c.Id].ErrorByTemplate["llama2"]);
        var e = Assert.Throws<ChatFormatException>(() => c.Format.RenderText(c.Conversation, c.Options));
        Assert.Equal(1, e.MessageIndex);
        Assert.Contains("message 1", e.Message);
    }
}
