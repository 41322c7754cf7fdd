using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>
/// Decoders on HF tokenizers' own test cases (decoders/*.rs, pre_tokenizers/metaspace.rs), where
/// the JS reference behaves differently: Rust's ByteFallback gives one U+FFFD per byte of an
/// invalid run, and Rust's Metaspace decoder drops every '▁' of the first token.
/// </summary>
public sealed class DecoderTests
{
    [Theory]
    [InlineData(new[] { "Hey", "friend!" }, new[] { "Hey", "friend!" })]
    [InlineData(new[] { "<0x61>" }, new[] { "a" })]
    [InlineData(new[] { "<0xE5>" }, new[] { "\uFFFD" })]
    [InlineData(new[] { "<0xE5>", "<0x8f>" }, new[] { "\uFFFD", "\uFFFD" })]
    [InlineData(new[] { "<0xE5>", "<0x8f>", "<0xab>" }, new[] { "叫" })]
    [InlineData(new[] { "<0xE5>", "<0x8f>", "<0xab>", "a" }, new[] { "叫", "a" })]
    [InlineData(new[] { "<0xE5>", "<0x8f>", "a" }, new[] { "\uFFFD", "\uFFFD", "a" })]
    public void ByteFallback_MatchesHfTests(string[] tokens, string[] expected) =>
        Assert.Equal(expected, new ByteFallbackDecoder().DecodeChain([.. tokens]));

    [Fact]
    public void Metaspace_MatchesHfTest() =>
        Assert.Equal(["Hey", " friend!"], new MetaspaceDecoder('▁', PrependScheme.Always).DecodeChain(["▁Hey", "▁friend!"]));

    [Fact]
    public void Metaspace_FirstToken_DropsEveryReplacementUnlessNever()
    {
        Assert.Equal(["ab", " c"], new MetaspaceDecoder('▁', PrependScheme.First).DecodeChain(["▁a▁b", "▁c"]));
        Assert.Equal([" a b", " c"], new MetaspaceDecoder('▁', PrependScheme.Never).DecodeChain(["▁a▁b", "▁c"]));
    }

    [Fact]
    public void Strip_MatchesHfTests()
    {
        Assert.Equal(["ey", " friend!", "HH"], new StripDecoder("H", 1, 0).DecodeChain(["Hey", " friend!", "HHH"]));
        Assert.Equal(["He", " friend!"], new StripDecoder("y", 0, 1).DecodeChain(["Hey", " friend!"]));
    }

    [Fact]
    public void Fuse_JoinsAllTokens() =>
        Assert.Equal(["Hey friend!"], new FuseDecoder().DecodeChain(["Hey", " friend", "!"]));

    [Fact]
    public void ByteLevel_TokenOutsideTheAlphabet_ContributesItsOwnUtf8() =>
        Assert.Equal(["Hi 叫!"], new ByteLevelDecoder().DecodeChain(["Hi", "Ġ", "叫", "!"]));
}
