using System.Text.Json;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Builds the pipeline described by an HF <c>tokenizer.json</c>. Each component is built from its
/// <c>type</c>, generically (nothing is keyed on the model's name); a type we do not implement is
/// reported with the file, its JSON path and the supported alternatives.
/// </summary>
internal sealed class TokenizerJsonReader(string filePath)
{
    private const string Normalizers = "NFC, NFD, Prepend, Replace, Sequence";
    private const string PreTokenizers = "ByteLevel, Metaspace, Split, Sequence";
    private const string PostProcessors = "ByteLevel, TemplateProcessing, Sequence";
    private const string Decoders = "ByteLevel, ByteFallback, Fuse, Metaspace, Replace, Strip, Sequence";

    private readonly JsonFields _json = new(filePath);

    public TokenizerPipeline Read(JsonElement root)
    {
        _json.RequireKind(root, JsonValueKind.Object, "(root)");
        var addedTokens = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind != JsonValueKind.Null)
        {
            _json.RequireKind(added, JsonValueKind.Array, "added_tokens");
            var i = 0;
            foreach (var token in added.EnumerateArray())
            {
                addedTokens.Add(_json.ReadAddedToken(token, $"added_tokens[{i++}]"));
            }
        }
        return new TokenizerPipeline(
            ReadModel(_json.Required(root, "model", "")),
            Optional(root, "normalizer", ReadNormalizer),
            Optional(root, "pre_tokenizer", ReadPreTokenizer),
            Optional(root, "post_processor", ReadPostProcessor),
            Optional(root, "decoder", ReadDecoder),
            addedTokens);
    }

    private static T? Optional<T>(JsonElement root, string name, Func<JsonElement, string, T> read) where T : class =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value, name) : null;

    private string TypeOf(JsonElement component, string where) => _json.RequiredString(component, "type", where);

    private BpeModel ReadModel(JsonElement model, string where = "model")
    {
        _json.RequireKind(model, JsonValueKind.Object, where);
        // Older files may omit "type"; HF then infers it from the fields, and only BPE has merges.
        var type = model.TryGetProperty("type", out _) ? TypeOf(model, where)
            : model.TryGetProperty("merges", out _) ? "BPE" : "(untyped, without merges)";
        if (type != "BPE")
        {
            throw _json.Unsupported(JsonFields.Join(where, "type"),
                $"unsupported model type '{type}' (supported: BPE, as used by Qwen2/Qwen3, Llama 2 and Llama 3)");
        }
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number
            && dropout.GetDouble() > 0)
        {
            throw _json.Unsupported(JsonFields.Join(where, "dropout"), "BPE dropout is not supported (encoding must be deterministic)");
        }
        var options = new BpeOptions(
            UnkToken: _json.OptionalString(model, "unk_token", where),
            ContinuingSubwordPrefix: _json.OptionalString(model, "continuing_subword_prefix", where),
            EndOfWordSuffix: _json.OptionalString(model, "end_of_word_suffix", where),
            FuseUnk: _json.OptionalBool(model, "fuse_unk", where, false),
            ByteFallback: _json.OptionalBool(model, "byte_fallback", where, false),
            IgnoreMerges: _json.OptionalBool(model, "ignore_merges", where, false));

        var vocabJson = _json.Required(model, "vocab", where);
        _json.RequireKind(vocabJson, JsonValueKind.Object, JsonFields.Join(where, "vocab"));
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
            {
                throw _json.Invalid($"{where}.vocab[\"{entry.Name}\"]", "expected a non-negative integer id");
            }
            vocab[entry.Name] = id;
        }

        var merges = ReadMerges(_json.Required(model, "merges", where), JsonFields.Join(where, "merges"));
        try
        {
            return new BpeModel(options, vocab, merges);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerLoadException(TokenizerLoadError.Invalid, _json.FilePath, where, e.Message, e);
        }
    }

    /// <summary>Merges as "a b" strings (legacy) or ["a", "b"] pairs (tokenizers ≥ 0.20).</summary>
    private List<(string, string)> ReadMerges(JsonElement merges, string where)
    {
        _json.RequireKind(merges, JsonValueKind.Array, where);
        var result = new List<(string, string)>(merges.GetArrayLength());
        var i = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            var at = $"{where}[{i++}]";
            if (merge.ValueKind == JsonValueKind.String)
            {
                var line = merge.GetString()!;
                if (line.StartsWith("#version", StringComparison.Ordinal))
                {
                    continue;
                }
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                {
                    throw _json.Invalid(at, $"expected \"left right\", found \"{line}\"");
                }
                result.Add((line[..space], line[(space + 1)..]));
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                result.Add((merge[0].GetString()!, merge[1].GetString()!));
            }
            else
            {
                throw _json.Invalid(at, "expected a \"left right\" string or a [left, right] pair");
            }
        }
        return result;
    }

    private INormalizer ReadNormalizer(JsonElement n, string where)
    {
        var type = TypeOf(n, where);
        switch (type)
        {
            case "NFC":
                return new UnicodeNormalizer(compose: true);
            case "NFD":
                return new UnicodeNormalizer(compose: false);
            case "Prepend":
                return new PrependNormalizer(_json.RequiredString(n, "prepend", where));
            case "Replace":
                return new ReplaceNormalizer(ReadPattern(n, where), _json.RequiredString(n, "content", where));
            case "Sequence":
                return new SequenceNormalizer(ReadList(n, "normalizers", where, ReadNormalizer));
            default:
                throw _json.Unsupported(where, $"unsupported normalizer type '{type}' (supported: {Normalizers})");
        }
    }

    private IPreTokenizer ReadPreTokenizer(JsonElement p, string where)
    {
        var type = TypeOf(p, where);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPreTokenizer(
                    _json.OptionalBool(p, "add_prefix_space", where, true),
                    _json.OptionalBool(p, "use_regex", where, true));
            case "Split":
                return new SplitPreTokenizer(ReadPattern(p, where), ReadBehavior(p, where),
                    _json.OptionalBool(p, "invert", where, false));
            case "Metaspace":
                return new MetaspacePreTokenizer(ReadReplacement(p, where), ReadPrependScheme(p, where),
                    _json.OptionalBool(p, "split", where, true));
            case "Sequence":
                return new SequencePreTokenizer(ReadList(p, "pretokenizers", where, ReadPreTokenizer));
            default:
                throw _json.Unsupported(where, $"unsupported pre-tokenizer type '{type}' (supported: {PreTokenizers})");
        }
    }

    private IPostProcessor ReadPostProcessor(JsonElement p, string where)
    {
        var type = TypeOf(p, where);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPostProcessor();
            case "TemplateProcessing":
                return ReadTemplate(p, where);
            case "Sequence":
                return new SequencePostProcessor(ReadList(p, "processors", where, ReadPostProcessor));
            default:
                throw _json.Unsupported(where, $"unsupported post-processor type '{type}' (supported: {PostProcessors})");
        }
    }

    private IDecoder ReadDecoder(JsonElement d, string where)
    {
        var type = TypeOf(d, where);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelDecoder();
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "Fuse":
                return new FuseDecoder();
            case "Metaspace":
                return new MetaspaceDecoder(ReadReplacement(d, where), ReadPrependScheme(d, where));
            case "Replace":
                return new ReplaceDecoder(ReadPattern(d, where), _json.RequiredString(d, "content", where));
            case "Strip":
                return new StripDecoder(_json.RequiredChar(d, "content", where),
                    _json.OptionalInt(d, "start", where, 0), _json.OptionalInt(d, "stop", where, 0));
            case "Sequence":
                return new SequenceDecoder(ReadList(d, "decoders", where, ReadDecoder));
            default:
                throw _json.Unsupported(where, $"unsupported decoder type '{type}' (supported: {Decoders})");
        }
    }

    private List<T> ReadList<T>(JsonElement obj, string name, string where, Func<JsonElement, string, T> read)
    {
        var list = _json.Required(obj, name, where);
        var at = JsonFields.Join(where, name);
        _json.RequireKind(list, JsonValueKind.Array, at);
        var result = new List<T>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            result.Add(read(item, $"{at}[{i++}]"));
        }
        return result;
    }

    private TextPattern ReadPattern(JsonElement obj, string where)
    {
        var pattern = _json.Required(obj, "pattern", where);
        var at = JsonFields.Join(where, "pattern");
        if (pattern.ValueKind == JsonValueKind.Object && pattern.TryGetProperty("String", out var s)
            && s.ValueKind == JsonValueKind.String)
        {
            return TextPattern.Literal(s.GetString()!);
        }
        if (pattern.ValueKind == JsonValueKind.Object && pattern.TryGetProperty("Regex", out var r)
            && r.ValueKind == JsonValueKind.String)
        {
            try
            {
                return TextPattern.Regex(r.GetString()!);
            }
            catch (ArgumentException e)
            {
                throw new TokenizerLoadException(TokenizerLoadError.Unsupported, _json.FilePath, at + ".Regex",
                    $"unsupported regex \"{r.GetString()}\": {e.Message}", e);
            }
        }
        throw _json.Invalid(at, "expected {\"String\": ...} or {\"Regex\": ...}");
    }

    private SplitDelimiterBehavior ReadBehavior(JsonElement obj, string where)
    {
        var behavior = _json.RequiredString(obj, "behavior", where);
        return behavior switch
        {
            "Removed" => SplitDelimiterBehavior.Removed,
            "Isolated" => SplitDelimiterBehavior.Isolated,
            "MergedWithPrevious" => SplitDelimiterBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitDelimiterBehavior.MergedWithNext,
            "Contiguous" => SplitDelimiterBehavior.Contiguous,
            _ => throw _json.Unsupported(JsonFields.Join(where, "behavior"), $"unknown split behavior '{behavior}'"),
        };
    }

    private char ReadReplacement(JsonElement obj, string where)
    {
        var replacement = _json.RequiredChar(obj, "replacement", where);
        return replacement.Length == 1
            ? replacement[0]
            : throw _json.Unsupported(JsonFields.Join(where, "replacement"), "a replacement outside the BMP is not supported");
    }

    /// <summary><c>prepend_scheme</c>, or for files older than tokenizers 0.15 <c>add_prefix_space</c>.</summary>
    private PrependScheme ReadPrependScheme(JsonElement obj, string where)
    {
        var scheme = _json.OptionalString(obj, "prepend_scheme", where);
        return scheme switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            null => _json.OptionalBool(obj, "add_prefix_space", where, true) ? PrependScheme.Always : PrependScheme.Never,
            _ => throw _json.Unsupported(JsonFields.Join(where, "prepend_scheme"), $"unknown prepend scheme '{scheme}'"),
        };
    }

    private TemplateProcessing ReadTemplate(JsonElement p, string where)
    {
        var specialTokens = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (p.TryGetProperty("special_tokens", out var specials) && specials.ValueKind != JsonValueKind.Null)
        {
            _json.RequireKind(specials, JsonValueKind.Object, JsonFields.Join(where, "special_tokens"));
            foreach (var entry in specials.EnumerateObject())
            {
                var at = $"{where}.special_tokens[\"{entry.Name}\"]";
                var ids = _json.Required(entry.Value, "ids", at);
                _json.RequireKind(ids, JsonValueKind.Array, at + ".ids");
                specialTokens[entry.Name] = [.. ids.EnumerateArray().Select(id =>
                    id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out var v) ? v : throw _json.Invalid(at + ".ids", "expected integers"))];
            }
        }
        var single = _json.Required(p, "single", where);
        var singleAt = JsonFields.Join(where, "single");
        _json.RequireKind(single, JsonValueKind.Array, singleAt);
        var items = new List<int[]?>();
        var i = 0;
        foreach (var item in single.EnumerateArray())
        {
            var at = $"{singleAt}[{i++}]";
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var special))
            {
                var id = _json.RequiredString(special, "id", at + ".SpecialToken");
                items.Add(specialTokens.TryGetValue(id, out var ids)
                    ? ids
                    : throw _json.Invalid(at, $"special token '{id}' is not listed in special_tokens"));
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out var sequence))
            {
                var id = _json.RequiredString(sequence, "id", at + ".Sequence");
                if (id != "A")
                {
                    throw _json.Invalid(at, $"the single-sequence template refers to sequence '{id}'");
                }
                items.Add(null);
            }
            else
            {
                throw _json.Invalid(at, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
            }
        }
        return new TemplateProcessing(items);
    }
}
