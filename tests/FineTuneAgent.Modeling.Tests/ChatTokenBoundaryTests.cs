using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>
/// Per-segment encoding against the real tokenizers (tests/compat/chat/render.mjs): the ids
/// <see cref="IChatFormat.Render"/> builds from segments equal the ids of the whole reference text, and the
/// masked ids decode to exactly the expected loss spans.
/// </summary>
[Collection(ChatReferenceCollection.Name)]
public sealed class ChatTokenBoundaryTests(ChatReferenceFixture reference)
{
    public static TheoryData<string> Renderable => ChatCases.RenderableIds();

    [Theory]
    [MemberData(nameof(Renderable))]
    public void Render_Case_EqualsEncodingOfWholeReferenceText(string id)
    {
        var c = ChatCases.Get(id);
        if (!c.TokenBoundaryHolds)
            return; // see Render_NewlineLedQwenHistory_KeepsHeaderNewlineApart
        var expected = reference[id];
        var tokens = Render(c, expected);
        Assert.NotEmpty(expected.WholeTextIds);
        Assert.Equal(expected.WholeTextIds, tokens.InputIds);
        Assert.Equal(tokens.InputIds.Length, tokens.LossMask.Length);
    }

    [Theory]
    [MemberData(nameof(Renderable))]
    public void LossMask_Case_DecodesToTheLossSpans(string id)
    {
        var c = ChatCases.Get(id);
        var expected = reference[id];
        var tokens = Render(c, expected);
        // Llama 2's decoder drops the one leading space SentencePiece's "▁" stands for.
        var spans = c.Format.Name == "llama2" ? c.LossSpans.Select(s => s[1..]) : c.LossSpans;
        Assert.Equal(spans, expected.DecodedLossRuns);
        Assert.Equal(c.LossSpans.Length, Runs(tokens.LossMask));
    }

    [Fact]
    public void Render_NewlineLedQwenHistory_KeepsHeaderNewlineApart()
    {
        // The whole text encodes "assistant\n\nA1" with one "\n\n" token; per segment the header keeps its
        // own "\n", as when the prompt is encoded alone at inference. Documented in ChatEncoding.
        var c = ChatCases.Get("qwen3-newline-led-history");
        var expected = reference[c.Id];
        var tokens = Render(c, expected);
        Assert.NotEqual(expected.WholeTextIds, tokens.InputIds);
        Assert.Equal(expected.WholeTextIds.Length + 1, tokens.InputIds.Length);
    }

    private static ChatTokens Render(ChatCase c, ChatReferenceResult expected) =>
        c.Format.Render(c.Conversation, c.Options, text =>
            expected.SegmentIds.TryGetValue(text, out var ids) ? ids : throw new InvalidOperationException($"no reference ids for segment {text}"));

    private static int Runs(bool[] mask)
    {
        var runs = 0;
        for (var i = 0; i < mask.Length; i++)
            if (mask[i] && (i == 0 || !mask[i - 1]))
                runs++;
        return runs;
    }
}
