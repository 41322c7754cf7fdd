using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A Hugging Face fast tokenizer loaded from <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>):
/// byte-level BPE as Qwen2/Qwen3 and Llama 3 use it, and Llama 2's SentencePiece-style BPE with
/// byte fallback. Encoding follows HF tokenizers step by step:
/// <list type="number">
/// <item>split out added tokens matched on the raw text;</item>
/// <item>normalize each remaining piece, then split out added tokens matched on normalized text;</item>
/// <item>pre-tokenize each piece and run BPE on each pre-token (cached per pre-token);</item>
/// <item>let the post-processor add special tokens, when asked.</item>
/// </list>
/// Unpaired UTF-16 surrogates in the input are replaced by U+FFFD first, which is what HF
/// tokenizers sees when such a string reaches it as UTF-8.
/// Thread-safe: the BPE cache is concurrent and scratch buffers are per thread.
/// </summary>
public sealed class Tokenizer : ITokenizer
{
    private readonly BpeModel _model;
    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private readonly IPostProcessor? _postProcessor;
    private readonly IDecoder? _decoder;
    private readonly AddedVocabulary _added;
    private readonly HashSet<string> _specialContents;

    private Tokenizer(string sourcePath, TokenizerPipeline pipeline, TokenizerConfig config)
    {
        SourcePath = sourcePath;
        Config = config;
        _model = pipeline.Model;
        _normalizer = pipeline.Normalizer;
        _preTokenizer = pipeline.PreTokenizer;
        _postProcessor = pipeline.PostProcessor;
        _decoder = pipeline.Decoder;

        // tokenizer.json's added tokens win; added_tokens_decoder only contributes tokens it lacks.
        var added = pipeline.AddedTokens.ToList();
        var known = added.Select(t => t.Id).ToHashSet();
        added.AddRange(config.AddedTokens.Where(t => !known.Contains(t.Id)));
        var normalizer = _normalizer;
        _added = new AddedVocabulary(added,
            normalizer is null ? null : s => normalizer.Normalize(s.AsMemory()).ToString());
        SpecialTokens = [.. _added.Tokens.Where(t => t.Special)];
        _specialContents = SpecialTokens.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        VocabSize = Math.Max(_model.IdCount, _added.Tokens.Count == 0 ? 0 : _added.Tokens.Max(t => t.Id) + 1);
        BosTokenId = config.BosToken is { } bos ? TokenToId(bos) : null;
        EosTokenId = config.EosToken is { } eos ? TokenToId(eos) : null;
        PadTokenId = config.PadToken is { } pad ? TokenToId(pad) : null;
    }

    /// <summary>The tokenizer.json this tokenizer was loaded from.</summary>
    public string SourcePath { get; }

    /// <summary>What was read from tokenizer_config.json (empty when there was none).</summary>
    public TokenizerConfig Config { get; }

    public int VocabSize { get; }
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    public int? PadTokenId { get; }
    public IReadOnlyList<AddedToken> SpecialTokens { get; }

    /// <summary>All added tokens (special or not), by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;

    public string? ChatTemplate => Config.ChatTemplate;

    /// <summary>
    /// Loads a tokenizer.json, and optionally its tokenizer_config.json (for bos/eos/pad, the chat
    /// template and added_tokens_decoder).
    /// </summary>
    /// <exception cref="TokenizerLoadException">A file is missing, malformed or unsupported.</exception>
    public static Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        var config = tokenizerConfigPath is null ? TokenizerConfig.Empty : TokenizerConfig.Load(tokenizerConfigPath);
        return Create(tokenizerJsonPath, config);
    }

    /// <summary>
    /// Loads the tokenizer of a model folder in Hugging Face layout: tokenizer.json, plus
    /// tokenizer_config.json and chat_template.jinja when present.
    /// </summary>
    /// <exception cref="TokenizerLoadException">A file is missing, malformed or unsupported.</exception>
    public static Tokenizer FromDirectory(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var configPath = Path.Combine(modelDirectory, "tokenizer_config.json");
        var config = File.Exists(configPath) ? TokenizerConfig.Load(configPath) : TokenizerConfig.Empty;
        var templatePath = Path.Combine(modelDirectory, "chat_template.jinja");
        if (config.ChatTemplate is null && File.Exists(templatePath))
        {
            config = config with { ChatTemplate = File.ReadAllText(templatePath) };
        }
        return Create(Path.Combine(modelDirectory, "tokenizer.json"), config);
    }

    private static Tokenizer Create(string tokenizerJsonPath, TokenizerConfig config)
    {
        using var document = JsonFile.Parse(tokenizerJsonPath);
        var pipeline = new TokenizerJsonReader(tokenizerJsonPath).Read(document.RootElement);
        return new Tokenizer(tokenizerJsonPath, pipeline, config);
    }

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        var scratch = EncodeScratch.ForCurrentThread();
        EncodeTo(text, scratch.Ids, addSpecialTokens, scratch);
        return [.. scratch.Ids];
    }

    public void EncodeTo(string text, List<int> ids, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        // Encode into scratch first: the post-processor must only see this text's ids.
        var scratch = EncodeScratch.ForCurrentThread();
        EncodeTo(text, scratch.Ids, addSpecialTokens, scratch);
        ids.AddRange(scratch.Ids);
    }

    private void EncodeTo(string text, List<int> ids, bool addSpecialTokens, EncodeScratch scratch)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = ReplaceLoneSurrogates(text);
        var sections = scratch.Sections;
        sections.Clear();
        _added.SplitRaw(text, sections);
        foreach (var section in sections)
        {
            if (section.IsToken)
            {
                ids.Add(section.TokenId);
                continue;
            }
            var piece = text.AsMemory(section.Start, section.Length);
            var normalized = _normalizer?.Normalize(piece) ?? piece;
            var atStart = section.Start == 0;
            if (!_added.HasNormalizedTokens)
            {
                EncodePiece(normalized, atStart, ids, scratch);
                continue;
            }
            var subsections = scratch.Subsections;
            subsections.Clear();
            _added.SplitNormalized(normalized.Span, subsections);
            foreach (var sub in subsections)
            {
                if (sub.IsToken)
                {
                    ids.Add(sub.TokenId);
                }
                else
                {
                    EncodePiece(normalized.Slice(sub.Start, sub.Length), atStart && sub.Start == 0, ids, scratch);
                }
            }
        }
        _postProcessor?.Process(ids, addSpecialTokens);
    }

    private void EncodePiece(ReadOnlyMemory<char> piece, bool atStart, List<int> ids, EncodeScratch scratch)
    {
        if (piece.IsEmpty)
        {
            return;
        }
        if (_preTokenizer is null)
        {
            _model.Tokenize(piece.Span, ids);
            return;
        }
        var preTokens = scratch.RentList();
        _preTokenizer.PreTokenize(new PreToken(piece, atStart), preTokens, scratch);
        foreach (var preToken in preTokens)
        {
            _model.Tokenize(preToken.Text.Span, ids);
        }
        scratch.ReturnList(preTokens);
    }

    /// <summary>The pre-tokenizer's pieces of a text that starts the input (no added-token
    /// splitting, no normalization); null without a pre-tokenizer. For tests and diagnostics.</summary>
    internal List<string>? PreTokenize(string text)
    {
        if (_preTokenizer is null)
        {
            return null;
        }
        var scratch = EncodeScratch.ForCurrentThread();
        var preTokens = new List<PreToken>();
        _preTokenizer.PreTokenize(new PreToken(text.AsMemory(), AtStart: true), preTokens, scratch);
        return [.. preTokens.Select(p => p.Text.ToString())];
    }

    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = false) =>
        Decode(ids, skipSpecialTokens, cleanUpTokenizationSpaces: false);

    /// <summary>
    /// Decodes as HF tokenizers does; with <paramref name="cleanUpTokenizationSpaces"/> also applies
    /// transformers' clean-up (" ." to "." and the like), which <see cref="Config"/> says whether
    /// the model's authors wanted. It loses information, so it is off by default.
    /// </summary>
    public string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens, bool cleanUpTokenizationSpaces)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            var token = IdToToken(id);
            if (token is null || (skipSpecialTokens && _specialContents.Contains(token)))
            {
                continue;
            }
            tokens.Add(token);
        }
        var text = _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return cleanUpTokenizationSpaces ? CleanUpTokenizationSpaces(text) : text;
    }

    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _added.ByContent(token)?.Id ?? _model.TokenToId(token);
    }

    public string? IdToToken(int id) => _added.ById(id)?.Content ?? _model.IdToToken(id);

    /// <summary>transformers' <c>clean_up_tokenization</c>.</summary>
    internal static string CleanUpTokenizationSpaces(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    /// <summary>Unpaired surrogates become U+FFFD; the same string comes back when there are none.</summary>
    internal static string ReplaceLoneSurrogates(string text)
    {
        var first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return text;
        }
        StringBuilder? sb = null;
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                sb ??= new StringBuilder(text);
                sb[i] = '\uFFFD';
            }
        }
        return sb?.ToString() ?? text;
    }
}
