using System.Text.Json;
using System.Text.RegularExpressions;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// The tokenizer.* metadata of a model folder, as llama.cpp's converter derives it from
/// tokenizer.json and tokenizer_config.json (convert_hf_to_gguf.py get_vocab_base /
/// _set_vocab_gpt2, gguf-py vocab.py SpecialVocab and LlamaHfVocab):
/// byte-level BPE (Qwen3, Llama 3) becomes tokenizer.ggml.model "gpt2" with merges; a
/// SentencePiece-style BPE with byte fallback (Llama 2) becomes "llama" with scores. The token
/// list is padded to the model's vocab_size with "[PAD{i}]" entries of type UNUSED.
/// </summary>
public sealed partial class GgufVocabulary
{
    private GgufVocabulary() { }

    /// <summary>"gpt2" or "llama".</summary>
    public required string Model { get; init; }

    public required string PreTokenizer { get; init; }

    public required IReadOnlyList<string> Tokens { get; init; }

    public required IReadOnlyList<int> TokenTypes { get; init; }

    /// <summary>SentencePiece scores ("llama" model only): llama.cpp merges the adjacent pair whose joined text has the highest score.</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary>BPE merges as "left right" ("gpt2" model only).</summary>
    public IReadOnlyList<string>? Merges { get; init; }

    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? UnknownId { get; init; }
    public int? PaddingId { get; init; }
    public bool AddBos { get; init; }
    public bool AddEos { get; init; }
    public bool? AddSpacePrefix { get; init; }
    public string? ChatTemplate { get; init; }

    [GeneratedRegex("^<0x[0-9A-Fa-f]{2}>$")]
    private static partial Regex ByteToken();

    /// <summary>Reads the tokenizer of a model folder; errors name the file and field.</summary>
    public static GgufVocabulary FromModelFolder(string modelDir, ModelConfig config, string preTokenizer)
    {
        var path = Path.Combine(modelDir, "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: GGUF embeds the tokenizer, and this model folder has no tokenizer.json", path);
        // Our tokenizer gives the special ids and whether encoding adds BOS/EOS exactly as training saw it.
        var tokenizer = Tokenizer.FromDirectory(modelDir);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        string Fail(string field, string message) => throw new InvalidDataException($"{path}: field '{field}': {message}");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            Fail("model", "missing");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "BPE")
            Fail("model.type", $"\"{type}\": GGUF export supports BPE tokenizers (byte-level as in Qwen3 and Llama 3, or SentencePiece-style with byte fallback as in Llama 2)");
        var byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;

        var byId = new Dictionary<int, string>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
            byId[entry.Value.GetInt32()] = entry.Name;
        var added = new Dictionary<int, (string Content, bool Special)>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in addedTokens.EnumerateArray())
            {
                var id = a.GetProperty("id").GetInt32();
                var content = a.GetProperty("content").GetString()!;
                added[id] = (content, a.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True);
                byId[id] = content;
            }
        }
        var maxId = byId.Keys.Max();
        if (maxId >= config.VocabSize)
            Fail("model.vocab", $"token id {maxId} ('{byId[maxId]}') is outside the model's vocab_size {config.VocabSize} (config.json)");

        var merges = ReadMerges(model, path);
        var unk = tokenizer.Config.UnkToken;
        var tokens = new string[config.VocabSize];
        var types = new int[config.VocabSize];
        for (var i = 0; i < config.VocabSize; i++)
        {
            if (!byId.TryGetValue(i, out var text))
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = (int)GgufTokenType.Unused;
                continue;
            }
            tokens[i] = text;
            types[i] = (int)(added.TryGetValue(i, out var a)
                ? (byteFallback && text == unk ? GgufTokenType.Unknown
                    : a.Special || LooksSpecial(text) ? GgufTokenType.Control : GgufTokenType.UserDefined)
                : byteFallback && ByteToken().IsMatch(text) ? GgufTokenType.Byte : GgufTokenType.Normal);
        }

        // add_bos / add_eos: what our encoder adds around a text with special tokens on.
        var plain = tokenizer.Encode("a", addSpecialTokens: false);
        var withSpecial = tokenizer.Encode("a", addSpecialTokens: true);
        var bos = tokenizer.BosTokenId ?? config.BosTokenId;
        var eos = tokenizer.EosTokenId ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
        var addsBos = withSpecial.Length > plain.Length && withSpecial[0] == bos && plain[0] != bos;
        var addsEos = withSpecial.Length > plain.Length && withSpecial[^1] == eos && plain[^1] != eos;
        return new GgufVocabulary
        {
            Model = byteFallback ? "llama" : "gpt2",
            PreTokenizer = preTokenizer,
            Tokens = tokens,
            TokenTypes = types,
            Scores = byteFallback ? SentencePieceScores(tokens, types, merges) : null,
            Merges = byteFallback ? null : merges.Select(m => m.Left + " " + m.Right).ToList(),
            BosId = bos,
            EosId = eos,
            UnknownId = unk is null ? null : tokenizer.TokenToId(unk),
            PaddingId = tokenizer.PadTokenId ?? config.PadTokenId,
            AddBos = addsBos,
            AddEos = addsEos,
            AddSpacePrefix = byteFallback ? PrependsSpace(root) : null,
            ChatTemplate = tokenizer.ChatTemplate,
        };
    }

    /// <summary>The tokenizer.* entries for a GGUF writer.</summary>
    public void AddTo(GgufWriter w)
    {
        w.Add("tokenizer.ggml.model", GgufValue.String(Model));
        w.Add("tokenizer.ggml.pre", GgufValue.String(PreTokenizer));
        w.Add("tokenizer.ggml.tokens", GgufValue.Strings(Tokens));
        if (Scores is not null)
            w.Add("tokenizer.ggml.scores", GgufValue.Float32s(Scores));
        w.Add("tokenizer.ggml.token_type", GgufValue.Int32s(TokenTypes));
        if (Merges is not null)
            w.Add("tokenizer.ggml.merges", GgufValue.Strings(Merges));
        if (BosId is { } bos)
            w.Add("tokenizer.ggml.bos_token_id", GgufValue.UInt32((uint)bos));
        if (EosId is { } eos)
            w.Add("tokenizer.ggml.eos_token_id", GgufValue.UInt32((uint)eos));
        if (UnknownId is { } unk)
            w.Add("tokenizer.ggml.unknown_token_id", GgufValue.UInt32((uint)unk));
        if (PaddingId is { } pad)
            w.Add("tokenizer.ggml.padding_token_id", GgufValue.UInt32((uint)pad));
        w.Add("tokenizer.ggml.add_bos_token", GgufValue.Bool(AddBos));
        w.Add("tokenizer.ggml.add_eos_token", GgufValue.Bool(AddEos));
        if (AddSpacePrefix is { } prefix)
            w.Add("tokenizer.ggml.add_space_prefix", GgufValue.Bool(prefix));
        if (ChatTemplate is not null)
            w.Add("tokenizer.chat_template", GgufValue.String(ChatTemplate));
    }

    // gguf-py's does_token_look_special: "<|...|>" and the full-width "<｜...｜>" forms.
    private static bool LooksSpecial(string text) =>
        (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal) && text.Length > 4)
        || (text.StartsWith("<｜", StringComparison.Ordinal) && text.EndsWith("｜>", StringComparison.Ordinal));

    private static List<(string Left, string Right)> ReadMerges(JsonElement model, string path)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var list) || list.ValueKind != JsonValueKind.Array)
            return merges;
        var index = 0;
        foreach (var m in list.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                // Legacy form "a b": split at the first space (BPE pieces hold no plain space).
                var s = m.GetString()!;
                var space = s.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0)
                    throw new InvalidDataException($"{path}: field 'model.merges[{index}]': \"{s}\" is not \"left right\"");
                merges.Add((s[..space], s[(space + 1)..]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
            {
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            }
            else
            {
                throw new InvalidDataException($"{path}: field 'model.merges[{index}]': expected \"left right\" or [left, right]");
            }
            index++;
        }
        return merges;
    }

    /// <summary>
    /// Scores for llama.cpp's SentencePiece tokenizer, which repeatedly joins the adjacent pair
    /// whose joined text is the vocabulary token of highest score. HF's BPE applies the merge of
    /// lowest rank, and its merges were generated from SentencePiece scores (transformers'
    /// SpmConverter), so a token's score is minus the rank of the first merge that yields it;
    /// single characters, bytes and specials, which no join can yield, score 0; a longer normal
    /// token no merge yields scores below every merge, so llama.cpp forms it last.
    /// </summary>
    private static float[] SentencePieceScores(string[] tokens, int[] types, List<(string Left, string Right)> merges)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < merges.Count; i++)
            rank.TryAdd(merges[i].Left + merges[i].Right, i);
        var scores = new float[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            scores[i] = rank.TryGetValue(tokens[i], out var r) ? -r
                : types[i] == (int)GgufTokenType.Normal && tokens[i].EnumerateRunes().Count() > 1 ? -(merges.Count + 1)
                : 0f;
        }
        return scores;
    }

    // Llama 2's tokenizer.json prepends "▁" in its normalizer (legacy) or Metaspace pre-tokenizer.
    private static bool PrependsSpace(JsonElement root)
    {
        var text = root.GetRawText();
        return text.Contains("\"Prepend\"", StringComparison.Ordinal)
            || (text.Contains("\"Metaspace\"", StringComparison.Ordinal) && !text.Contains("\"prepend_scheme\":\"never\"", StringComparison.Ordinal));
    }
}
