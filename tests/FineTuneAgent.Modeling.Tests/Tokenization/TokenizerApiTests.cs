using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>The API later code uses, on the real files. Expected values are read off the files
/// (tokenizer.json added_tokens, tokenizer_config.json) and HF tokenizers' documented behavior.
/// The real tokenizers come from the shared fixture, so they are loaded once per test run.</summary>
[Collection(ReferenceCollection.Name)]
public sealed class TokenizerApiTests(ReferenceFixture fixture)
{
    private Tokenizer Qwen => fixture["qwen3"].Tokenizer;
    private Tokenizer Llama3 => fixture["llama3"].Tokenizer;
    private Tokenizer Llama2 => fixture["llama2"].Tokenizer;

    [Fact]
    public void Qwen3_SpecialTokenIdsAndVocabulary_AsInItsFiles()
    {
        var t = Qwen;
        Assert.Null(t.BosTokenId);
        Assert.Equal(151645, t.EosTokenId);            // <|im_end|>
        Assert.Equal(151643, t.PadTokenId);            // <|endoftext|>
        Assert.Equal(151669, t.VocabSize);             // 151643 BPE tokens + 26 added
        Assert.Equal(Enumerable.Range(151643, 14), t.SpecialTokens.Select(s => s.Id));
        Assert.Equal(151667, t.TokenToId("<think>"));
        Assert.Equal("</think>", t.IdToToken(151668));
        Assert.DoesNotContain(t.SpecialTokens, s => s.Content == "<think>");
        Assert.StartsWith("{%- if tools %}", t.ChatTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Llama3_SpecialTokenIdsAndVocabulary_AsInItsFiles()
    {
        var t = Llama3;
        Assert.Equal(128000, t.BosTokenId);
        Assert.Equal(128001, t.EosTokenId);
        Assert.Null(t.PadTokenId);
        Assert.Equal(128256, t.VocabSize);
        Assert.Equal(256, t.SpecialTokens.Count);
        Assert.True(t.Config.CleanUpTokenizationSpaces);
    }

    [Fact]
    public void Llama2_SpecialTokenIdsAndVocabulary_AsInItsFiles()
    {
        var t = Llama2;
        Assert.Equal(1, t.BosTokenId);
        Assert.Equal(2, t.EosTokenId);
        Assert.Null(t.PadTokenId);
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(13, t.TokenToId("<0x0A>"));
        Assert.Null(t.TokenToId("no such token"));
        Assert.Null(t.IdToToken(32000));
    }

    /// <summary>FACTS.md 9.1: Qwen's pattern has \p{N} (one digit per piece), Llama 3's \p{N}{1,3}.</summary>
    [Fact]
    public void PreTokenize_Digits_SinglesForQwenGroupsOfThreeForLlama3()
    {
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7"], Qwen.PreTokenize("1234567"));
        Assert.Equal(["123", "456", "7"], Llama3.PreTokenize("1234567"));
    }

    [Fact]
    public void ITokenizer_IsImplementedByTokenizer()
    {
        ITokenizer t = Qwen;
        Assert.Equal("Hello world", t.Decode(t.Encode("Hello world")));
    }

    [Fact]
    public void Llama2_AddSpecialTokens_PrependsBosFromItsTemplate()
    {
        var t = Llama2;
        Assert.Equal([1, .. t.Encode("Hello", addSpecialTokens: false)], t.Encode("Hello", addSpecialTokens: true));
    }

    [Fact]
    public void EncodeTo_AppendsWithoutDisturbingExistingIds()
    {
        var t = Llama2;
        var ids = new List<int> { 7, 8 };

        t.EncodeTo("Hello", ids, addSpecialTokens: true);

        Assert.Equal([7, 8, .. t.Encode("Hello", addSpecialTokens: true)], ids);
    }

    [Fact]
    public void Decode_UnknownIds_AreSkippedAsInHfTokenizers()
    {
        var t = Qwen;
        Assert.Equal("Hi", t.Decode([-1, t.TokenToId("Hi")!.Value, 999_999_999]));
    }

    [Fact]
    public void Decode_EmptyList_IsEmpty() => Assert.Equal("", Llama3.Decode([]));

    [Fact]
    public void Encode_EmptyText_IsOnlyTheTemplate()
    {
        Assert.Empty(Qwen.Encode(""));
        Assert.Equal([1], Llama2.Encode("", addSpecialTokens: true));
    }

    [Fact]
    public void FromDirectory_ChatTemplateJinja_UsedWhenConfigHasNone()
    {
        using var dir = new TempFile(TinyTokenizerJson.ByteLevel());
        File.WriteAllText(Path.Combine(dir.Directory, "tokenizer_config.json"), """{"eos_token": "ab"}""");
        File.WriteAllText(Path.Combine(dir.Directory, "chat_template.jinja"), "{{ messages }}");

        var t = Tokenizer.FromDirectory(dir.Directory);

        Assert.Equal("{{ messages }}", t.ChatTemplate);
        Assert.Equal(256, t.EosTokenId);
    }

    [Fact]
    public void TokenizerConfig_AddedTokensDecoder_AddsTokensMissingFromTokenizerJson()
    {
        using var dir = new TempFile(TinyTokenizerJson.ByteLevel());
        File.WriteAllText(Path.Combine(dir.Directory, "tokenizer_config.json"), """
            {"added_tokens_decoder": {"300": {"content": "<extra>", "lstrip": false, "normalized": false,
             "rstrip": false, "single_word": false, "special": true}},
             "bos_token": {"content": "<extra>", "lstrip": false}}
            """);

        var t = Tokenizer.FromDirectory(dir.Directory);

        Assert.Equal(300, t.BosTokenId);
        Assert.Equal([300, 97], t.Encode("<extra>a"));
        Assert.Equal("a", t.Decode([300, 97], skipSpecialTokens: true));
        Assert.Equal(301, t.VocabSize);
    }
}
