using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>Bad tokenizer files: each error names the file and, where there is one, the component.</summary>
public sealed class TokenizerLoadErrorTests
{
    [Fact]
    public void FromFile_MissingFile_NamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-dir-{Guid.NewGuid():N}", "tokenizer.json");

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(path));

        Assert.Equal(TokenizerLoadError.FileNotFound, e.Error);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void FromDirectory_WithoutTokenizerJson_NamesTheExpectedFile()
    {
        using var file = new TempFile("{}", "tokenizer_config.json");

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromDirectory(file.Directory));

        Assert.Equal(TokenizerLoadError.FileNotFound, e.Error);
        Assert.Contains(Path.Combine(file.Directory, "tokenizer.json"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_MalformedJson_NamesTheFileAndLine()
    {
        using var file = new TempFile("{\n  \"model\": {\n    \"type\": \"BPE\",,\n  }\n}");

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.Equal(TokenizerLoadError.MalformedJson, e.Error);
        Assert.Contains(file.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_MalformedConfig_NamesTheConfigFile()
    {
        using var tokenizer = new TempFile(TinyTokenizerJson.ByteLevel());
        var configPath = Path.Combine(tokenizer.Directory, "tokenizer_config.json");
        File.WriteAllText(configPath, "{\"bos_token\": ");

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(tokenizer.Path, configPath));

        Assert.Equal(TokenizerLoadError.MalformedJson, e.Error);
        Assert.Equal(configPath, e.FilePath);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void FromFile_UnsupportedModelType_NamesFileComponentAndType(string type)
    {
        using var file = new TempFile(TinyTokenizerJson.ByteLevel(
            model: $$"""{"type": "{{type}}", "vocab": {"a": 0}, "unk_token": "a"}"""));

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.True(e.IsUnsupported);
        Assert.Equal("model.type", e.Component);
        Assert.Contains(file.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{type}'", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> UnsupportedComponents => new()
    {
        { "normalizer", """{"type": "NFKC"}""", "normalizer" },
        { "normalizer", """{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}""", "normalizer.normalizers[1]" },
        { "pre_tokenizer", """{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Whitespace"}]}""", "pre_tokenizer.pretokenizers[1]" },
        { "post_processor", """{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]}""", "post_processor" },
        { "decoder", """{"type": "WordPiece", "prefix": "##"}""", "decoder" },
        { "pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "[[:alpha:]]+"}, "behavior": "Isolated", "invert": false}""", "pre_tokenizer.pattern.Regex" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedComponents))]
    public void FromFile_UnsupportedComponent_NamesFileAndComponent(string slot, string component, string where)
    {
        var json = slot switch
        {
            "normalizer" => TinyTokenizerJson.ByteLevel(normalizer: component),
            "pre_tokenizer" => TinyTokenizerJson.ByteLevel(preTokenizer: component),
            "post_processor" => TinyTokenizerJson.ByteLevel(postProcessor: component),
            _ => TinyTokenizerJson.ByteLevel(decoder: component),
        };
        using var file = new TempFile(json);

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.True(e.IsUnsupported, e.Message);
        Assert.Equal(where, e.Component);
        Assert.Contains(file.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains(where, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_MergeOfUnknownToken_NamesTheMerge()
    {
        using var file = new TempFile(TinyTokenizerJson.ByteLevel(
            model: """{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a z"]}"""));

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.Equal(TokenizerLoadError.Invalid, e.Error);
        Assert.Equal("model", e.Component);
        Assert.Contains("merges[1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_MissingModel_NamesTheField()
    {
        using var file = new TempFile("""{"added_tokens": [], "normalizer": null}""");

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.Equal(TokenizerLoadError.Invalid, e.Error);
        Assert.Equal("model", e.Component);
    }

    [Fact]
    public void FromFile_AddedTokenWithoutContent_NamesTheEntry()
    {
        using var file = new TempFile(TinyTokenizerJson.ByteLevel(addedTokens: """[{"id": 300, "content": "<a>"}, {"id": 301}]"""));

        var e = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(file.Path));

        Assert.Equal("added_tokens[1].content", e.Component);
    }
}
