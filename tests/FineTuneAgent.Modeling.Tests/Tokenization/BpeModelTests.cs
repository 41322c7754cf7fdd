using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>BPE on tiny hand-made vocabularies, where the expected ids follow from the algorithm
/// by hand: repeatedly merge the adjacent pair with the lowest merge rank, leftmost first.</summary>
public sealed class BpeModelTests
{
    [Fact]
    public void Tokenize_VocabularyWithTokenAcrossMetaspace_StillMergesAcrossIt()
    {
        // "a▁b": a + ▁ -> "a▁" (rank 0), then "a▁" + b -> "a▁b" (rank 1). A model that cut the
        // text before '▁' (our shortcut for SentencePiece vocabularies) would give a, ▁b.
        var model = new BpeModel(new BpeOptions(),
            new Dictionary<string, int> { ["▁"] = 0, ["a"] = 1, ["b"] = 2, ["a▁"] = 3, ["a▁b"] = 4, ["▁b"] = 5 },
            [("a", "▁"), ("a▁", "b"), ("▁", "b")]);
        var ids = new List<int>();

        model.Tokenize("a▁b", ids);

        Assert.Equal([4], ids);
    }

    [Fact]
    public void Tokenize_SentencePieceVocabulary_SameAsWithoutTheShortcut()
    {
        // No token has '▁' after another character, so the model cuts "▁a▁▁b▁b" into ▁a, ▁▁b, ▁b.
        // Merging the whole word by hand gives the same: (▁,a) rank 0, then (▁,b) rank 1 twice,
        // leftmost first; (▁,▁) rank 2 has lost its right ▁ by then.
        var model = new BpeModel(new BpeOptions(),
            new Dictionary<string, int> { ["▁"] = 0, ["a"] = 1, ["b"] = 2, ["▁a"] = 3, ["▁b"] = 4, ["▁▁"] = 5 },
            [("▁", "a"), ("▁", "b"), ("▁", "▁")]);
        var ids = new List<int>();

        model.Tokenize("▁a▁▁b▁b", ids);

        Assert.Equal([3, 0, 4, 4], ids);
    }

    [Fact]
    public void Tokenize_EqualRanks_MergeLeftmostFirst()
    {
        // "aaa": pairs (a,a) at 0 and 1 have the same rank; the leftmost merges: aa, a.
        var model = new BpeModel(new BpeOptions(),
            new Dictionary<string, int> { ["a"] = 0, ["aa"] = 1 }, [("a", "a")]);
        var ids = new List<int>();

        model.Tokenize("aaa", ids);

        Assert.Equal([1, 0], ids);
    }

    [Fact]
    public void Tokenize_UnknownCharacters_ByteFallbackThenFusedUnk()
    {
        var vocab = new Dictionary<string, int> { ["<unk>"] = 0, ["a"] = 1, ["<0xC3>"] = 2, ["<0xA9>"] = 3 };
        var fallback = new BpeModel(new BpeOptions(UnkToken: "<unk>", FuseUnk: true, ByteFallback: true), vocab, []);
        var ids = new List<int>();

        fallback.Tokenize("aé", ids);      // é is C3 A9 in UTF-8: both byte tokens exist
        fallback.Tokenize("a€€a", ids);    // € (E2 82 AC) has no byte tokens: one fused unk

        Assert.Equal([1, 2, 3, 1, 0, 1], ids);
    }
}
