using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Splitting on added tokens with their lstrip / rstrip / single_word / normalized flags. The
/// real Qwen and Llama files set none of these flags, and the JS reference ignores single_word,
/// so the cases and expected splits are those of HF tokenizers' own tests
/// (tokenizers/src/tokenizer/added_vocabulary.rs), with a lower-casing normalizer as there.
/// </summary>
public sealed class AddedTokenTests
{
    private static readonly Func<string, string> s_lowercase = s => s.ToLowerInvariant();

    [Fact]
    public void Split_NormalAndSpecialTokens_ExtractsBoth()
    {
        var vocab = new AddedVocabulary(
        [
            new AddedToken(0, "my", Normalized: true), new AddedToken(1, "name", Normalized: true),
            new AddedToken(2, "[CLS]", Special: true), new AddedToken(3, "[SEP]", Special: true),
        ], normalize: null);

        Assert.Equal(
            [("[CLS]", 2), (" My ", null), ("name", 1), (" is Anthony ", null), ("[SEP]", 3)],
            Split(vocab, "[CLS] My name is Anthony [SEP]", normalize: null));
    }

    [Fact]
    public void Split_StripAndSingleWordOptions_FollowHfTokenizers()
    {
        var vocab = new AddedVocabulary(
        [
            new AddedToken(0, "my", LStrip: true, RStrip: true, Normalized: true),
            new AddedToken(1, "name", Normalized: true),
            new AddedToken(2, "ony", SingleWord: true, Normalized: true),
            new AddedToken(3, "[CLS]", Special: true), new AddedToken(4, "[SEP]", Special: true),
        ], s_lowercase);

        // " my " includes both spaces (lstrip, rstrip) and matches the normalized text;
        // "ony" inside "anthony" is not extracted (single_word).
        Assert.Equal(
            [("[CLS]", 3), (" my ", 0), ("name", 1), (" is anthony ", null), ("[SEP]", 4)],
            Split(vocab, "[CLS] My name is Anthony [SEP]", s_lowercase));
    }

    [Fact]
    public void Split_SingleWord_OnlyMatchesOutsideWords()
    {
        var vocab = new AddedVocabulary([new AddedToken(0, "<mask>", SingleWord: true, Normalized: true)], s_lowercase);

        Assert.Equal(
            [("<mask>", 0), (" my name ", null), ("<mask>", 0), (" a<mask> <mask>ony ", null), ("<mask>", 0)],
            Split(vocab, "<mask> My name <mask> A<mask> <mask>ony <mask>", s_lowercase));
    }

    [Fact]
    public void Split_SingleWord_TreatsCombiningMarksAsWordCharacters()
    {
        var vocab = new AddedVocabulary([new AddedToken(0, "<mask>", SingleWord: true, Normalized: true)], s_lowercase);

        Assert.Equal(
            [("<mask>", 0), (", ", null), ("<mask>", 0), ("- \u25CC\u0330<mask>", null)],
            Split(vocab, "<mask>, <mask>- \u25CC\u0330<mask>", s_lowercase));
    }

    [Fact]
    public void Split_LStripRStrip_SwallowUnicodeWhitespaceWithoutOverlapping()
    {
        var vocab = new AddedVocabulary(
            [new AddedToken(0, "<mask>", SingleWord: true, LStrip: true, RStrip: true, Normalized: true)], s_lowercase);

        Assert.Equal(
            [("hi", null), (" <mask> ", 0), ("there", null), ("\t<mask>\t", 0), ("<mask>\u2000", 0)],
            Split(vocab, "Hi <mask> there\t<mask>\t<mask>\u2000", s_lowercase));
    }

    [Fact]
    public void Split_OverlappingTokens_TakesLeftmostLongest()
    {
        var vocab = new AddedVocabulary(
            [new AddedToken(0, "<a>"), new AddedToken(1, "<a><b>"), new AddedToken(2, "b>c")], normalize: null);

        Assert.Equal([("x", null), ("<a><b>", 1), ("c", null)], Split(vocab, "x<a><b>c", normalize: null));
    }

    [Fact]
    public void Encode_RStripToken_SwallowsFollowingSpaces()
    {
        // A byte-level tokenizer whose only added token strips the whitespace on both sides.
        var json = TinyTokenizerJson.ByteLevel(addedTokens: """
            [{"id": 300, "content": "<sep>", "single_word": false, "lstrip": true, "rstrip": true,
              "normalized": false, "special": true}]
            """);
        using var file = new TempFile(json);
        var tokenizer = Tokenizer.FromFile(file.Path);

        var ids = tokenizer.Encode("a  <sep>  b", addSpecialTokens: false);

        Assert.Equal([tokenizer.TokenToId("a")!.Value, 300, tokenizer.TokenToId("b")!.Value], ids);
    }

    /// <summary>The two passes of HF's extract_and_normalize: raw matches, then matches on the
    /// normalized text of what lies between.</summary>
    private static List<(string, int?)> Split(AddedVocabulary vocab, string text, Func<string, string>? normalize)
    {
        var result = new List<(string, int?)>();
        var raw = new List<AddedVocabulary.Segment>();
        vocab.SplitRaw(text, raw);
        foreach (var segment in raw)
        {
            var piece = text.Substring(segment.Start, segment.Length);
            if (segment.IsToken)
            {
                result.Add((piece, segment.TokenId));
                continue;
            }
            var normalized = normalize?.Invoke(piece) ?? piece;
            var inner = new List<AddedVocabulary.Segment>();
            vocab.SplitNormalized(normalized, inner);
            result.AddRange(inner.Select(s => (normalized.Substring(s.Start, s.Length), s.IsToken ? s.TokenId : (int?)null)));
        }
        return result;
    }
}
