using System.Globalization;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Pre-tokenizer pieces on cases taken from HF tokenizers' own tests (split.rs, metaspace.rs) and
/// from Oniguruma semantics the JS reference does not reproduce.
/// </summary>
public sealed class PreTokenizerTests
{
    [Theory]
    [InlineData("Removed", new[] { "How", "are", "you", "doing", "?" })]
    [InlineData("Isolated", new[] { "How", " ", "are", " ", "you", " ", "doing", "?" })]
    [InlineData("MergedWithPrevious", new[] { "How ", "are ", "you ", "doing", "?" })]
    [InlineData("MergedWithNext", new[] { "How", " are", " you", " doing", "?" })]
    [InlineData("Contiguous", new[] { "How", " ", "are", " ", "you", " ", "doing?" })]
    public void Split_InvertedWordRegex_EachBehavior_MatchesHfTests(string behavior, string[] expected)
    {
        var split = new SplitPreTokenizer(TextPattern.Regex(@"\w+|[^\w\s]+"),
            Enum.Parse<SplitDelimiterBehavior>(behavior), invert: true);

        Assert.Equal(expected, Run(split, "How are you doing?"));
    }

    [Fact]
    public void Split_InvertedLiteral_EqualsSplitOnTheGaps()
    {
        var onSpaces = new SplitPreTokenizer(TextPattern.Literal(" "), SplitDelimiterBehavior.Removed, invert: false);
        var onHello = new SplitPreTokenizer(TextPattern.Literal("Hello"), SplitDelimiterBehavior.Removed, invert: true);

        Assert.Equal(["Hello", "Hello", "Hello"], Run(onSpaces, "Hello Hello Hello"));
        Assert.Equal(Run(onSpaces, "Hello Hello Hello"), Run(onHello, "Hello Hello Hello"));
    }

    [Theory]
    [InlineData("Hey friend!", new[] { "▁Hey", "▁friend!" })]
    [InlineData("Hey   friend!", new[] { "▁Hey", "▁", "▁", "▁friend!" })]
    public void Metaspace_SplitAlways_MatchesHfTests(string text, string[] expected) =>
        Assert.Equal(expected, Run(new MetaspacePreTokenizer('▁', PrependScheme.Always, split: true), text));

    [Fact]
    public void Metaspace_PrependFirst_OnlyPrependsAtTheStartOfTheText()
    {
        var metaspace = new MetaspacePreTokenizer('▁', PrependScheme.First, split: false);

        Assert.Equal(["▁Hey▁you"], Run(metaspace, "Hey you", atStart: true));
        Assert.Equal(["Hey▁you"], Run(metaspace, "Hey you", atStart: false));
        Assert.Equal(["▁Hey"], Run(metaspace, " Hey", atStart: true));
    }

    /// <summary>Oniguruma folds case with Unicode CaseFolding.txt, where ſ (U+017F) folds to s
    /// ("017F; C; 0073"), so Qwen's (?i:'s) takes "'ſ" as a contraction. .NET's own
    /// case-insensitive matching does not, nor does the JS reference (ASCII folding only).</summary>
    [Fact]
    public void Split_QwenPattern_CaseInsensitiveContractionMatchesLongS()
    {
        const string qwen = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        var split = new SplitPreTokenizer(TextPattern.Regex(qwen), SplitDelimiterBehavior.Isolated, invert: false);

        Assert.Equal(["'ſ", "t"], Run(split, "'ſt"));
        Assert.Equal(["'S", "t"], Run(split, "'St"));
    }

    /// <summary>Oniguruma matches code points: an emoji is one symbol that may precede letters,
    /// a CJK Extension B character is a letter.</summary>
    [Theory]
    [InlineData("😀abc", new[] { "😀abc" })]
    [InlineData("a𠀀b c", new[] { "a𠀀b", " c" })]
    [InlineData("x𝟘𝟙", new[] { "x", "𝟘", "𝟙" })]
    public void Split_SupplementaryCharacters_MatchAsOneCodePoint(string text, string[] expected)
    {
        const string qwen = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        var split = new SplitPreTokenizer(TextPattern.Regex(qwen), SplitDelimiterBehavior.Isolated, invert: false);

        Assert.Equal(expected, Run(split, text));
    }

    [Theory]
    [InlineData(0x1D400)] // 𝐀 Lu
    [InlineData(0x1D41A)] // 𝐚 Ll
    [InlineData(0x20000)] // 𠀀 Lo
    [InlineData(0x16F93)] // Lm
    [InlineData(0x1D7CE)] // 𝟎 Nd
    [InlineData(0x10140)] // Nl
    [InlineData(0x1F100)] // No
    [InlineData(0x1D167)] // Mn
    [InlineData(0x1D165)] // Mc
    [InlineData(0x1F600)] // 😀 So
    [InlineData(0x1F3FB)] // skin tone Sk
    [InlineData(0x1D6C1)] // Sm
    [InlineData(0x1E2FF)] // Sc
    [InlineData(0x1E95E)] // Po
    [InlineData(0xE0001)] // Cf
    [InlineData(0xF0000)] // Co
    [InlineData(0x10FFFF)] // Cn
    public void StandIn_SupplementaryCodePoint_HasTheSameCategory(int codePoint) =>
        Assert.Equal(CharUnicodeInfo.GetUnicodeCategory(codePoint),
            CharUnicodeInfo.GetUnicodeCategory(CodePointRegex.StandIn(codePoint)));

    [Fact]
    public void Regex_Anchors_AreLineAnchorsAsInOniguruma()
    {
        var matches = new List<(int, int)>();
        new CodePointRegex("^a|b$").FindMatches("a\na\nb\nb", matches);

        Assert.Equal([(0, 1), (2, 1), (4, 1), (6, 1)], matches);
    }

    [Theory]
    [InlineData("[[:alpha:]]+")]
    [InlineData(@"\h+")]
    [InlineData("[a-z&&[^aeiou]]")]
    [InlineData(@"\x{1F600}")]
    public void Regex_ConstructsWithoutAFaithfulTranslation_AreRefused(string pattern) =>
        Assert.ThrowsAny<ArgumentException>(() => new CodePointRegex(pattern));

    private static List<string> Run(IPreTokenizer preTokenizer, string text, bool atStart = true)
    {
        var output = new List<PreToken>();
        preTokenizer.PreTokenize(new PreToken(text.AsMemory(), atStart), output, new EncodeScratch());
        return [.. output.Select(p => p.Text.ToString())];
    }
}
