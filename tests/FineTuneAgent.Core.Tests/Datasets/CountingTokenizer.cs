using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Tests.Datasets;

/// <summary>A tokenizer that counts Encode calls, to tell a cache hit from a rebuild.</summary>
internal sealed class CountingTokenizer(ITokenizer inner) : ITokenizer
{
    public int EncodeCalls { get; private set; }

    public int VocabSize => inner.VocabSize;
    public int? BosTokenId => inner.BosTokenId;
    public int? EosTokenId => inner.EosTokenId;
    public int? PadTokenId => inner.PadTokenId;
    public IReadOnlyList<AddedToken> SpecialTokens => inner.SpecialTokens;
    public string? ChatTemplate => inner.ChatTemplate;

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        EncodeCalls++;
        return inner.Encode(text, addSpecialTokens);
    }

    public void EncodeTo(string text, List<int> ids, bool addSpecialTokens = true)
    {
        EncodeCalls++;
        inner.EncodeTo(text, ids, addSpecialTokens);
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false) => inner.Decode(ids, skipSpecialTokens);
    public int? TokenToId(string token) => inner.TokenToId(token);
    public string? IdToToken(int id) => inner.IdToToken(id);
}
