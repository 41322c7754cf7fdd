namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Text to token ids and back, as Hugging Face tokenizers does it for a model. Implementations
/// are thread-safe.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of token ids: the highest id of the vocabulary and added tokens, plus one.
    /// (The model's embedding table may be larger.)</summary>
    int VocabSize { get; }

    int? BosTokenId { get; }
    int? EosTokenId { get; }
    int? PadTokenId { get; }

    /// <summary>Added tokens marked special (dropped when decoding with skipSpecialTokens).</summary>
    IReadOnlyList<AddedToken> SpecialTokens { get; }

    /// <summary>The Jinja chat template from tokenizer_config.json, if any.</summary>
    string? ChatTemplate { get; }

    /// <summary>Token ids of <paramref name="text"/>. Added tokens in the text (e.g. &lt;|im_start|&gt;)
    /// become their ids; <paramref name="addSpecialTokens"/> lets the post-processor add its tokens
    /// (Llama's BOS).</summary>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    void EncodeTo(string text, List<int> ids, bool addSpecialTokens = true);

    /// <summary>The text of <paramref name="ids"/>; unknown ids are skipped.</summary>
    string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false);

    int? TokenToId(string token);

    string? IdToToken(int id);
}
