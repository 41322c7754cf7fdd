using System.Collections.Concurrent;
using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// The <c>BPE</c> model of HF tokenizers. A pre-token starts as one symbol per character (unknown
/// characters become <c>&lt;0xXX&gt;</c> byte tokens with <c>byte_fallback</c>, else the unk token,
/// fused when <c>fuse_unk</c>); then the adjacent pair with the lowest merge rank is merged, the
/// leftmost on ties, until no pair has a merge. With <c>ignore_merges</c> a pre-token that is
/// itself in the vocabulary is emitted as is. Results are cached per pre-token.
/// <para>
/// SentencePiece-style models (Llama 2) have no pre-tokenizer, so a whole text is one "word" and
/// nothing would be cached. When no vocabulary token has a '▁' right after another character, no
/// merge can join across the start of a "▁word" either, so we cut the text there and merge (and
/// cache) the pieces separately: the result is the same, checked on the vocabulary at load.
/// </para>
/// </summary>
internal sealed class BpeModel
{
    private const int MaxCachedWordLength = 256;
    private const int CacheCapacity = 100_000;
    private const char Metaspace = '\u2581';

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly string?[] _idToToken;
    private readonly BpeMerges _merges;
    private readonly int[]? _charIds; // BMP character -> id of the one-character token, or -1
    private readonly int[] _byteIds; // byte -> id of "<0xXX>", or -1
    private readonly int _unkId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly bool _splitBeforeMetaspace;
    private int _cacheCount;

    public BpeModel(BpeOptions options, Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges)
    {
        Options = options;
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        var maxId = vocab.Count == 0 ? -1 : vocab.Values.Max();
        _idToToken = new string?[maxId + 1];
        foreach (var (token, id) in vocab)
        {
            _idToToken[id] = token;
        }

        _unkId = -1;
        if (options.UnkToken is { } unk)
        {
            _unkId = vocab.TryGetValue(unk, out var id)
                ? id
                : throw new ArgumentException($"unk_token '{unk}' is not in the vocabulary");
        }

        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.GetValueOrDefault($"<0x{b:X2}>", -1);
        }

        if (string.IsNullOrEmpty(options.ContinuingSubwordPrefix) && string.IsNullOrEmpty(options.EndOfWordSuffix))
        {
            _charIds = new int[0x10000];
            Array.Fill(_charIds, -1);
            foreach (var (token, id) in vocab)
            {
                if (token.Length == 1)
                {
                    _charIds[token[0]] = id;
                }
            }
        }

        _splitBeforeMetaspace = _charIds is not null && vocab.ContainsKey(Metaspace.ToString())
            && !vocab.Keys.Any(HasMetaspaceAfterOtherChar);

        _merges = new BpeMerges(vocab, merges, options.ContinuingSubwordPrefix);
    }

    public BpeOptions Options { get; }

    /// <summary>Highest id + 1.</summary>
    public int IdCount => _idToToken.Length;

    public int? TokenToId(ReadOnlySpan<char> token) => _vocabBySpan.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>Appends the ids of one pre-token.</summary>
    public void Tokenize(ReadOnlySpan<char> word, List<int> ids)
    {
        if (word.IsEmpty)
        {
            return;
        }
        if (!_splitBeforeMetaspace)
        {
            TokenizeWord(word, ids, Options.IgnoreMerges);
            return;
        }
        if (Options.IgnoreMerges && _vocabBySpan.TryGetValue(word, out var whole))
        {
            ids.Add(whole);
            return;
        }
        var start = 0;
        for (var i = 1; i < word.Length; i++)
        {
            if (word[i] == Metaspace && word[i - 1] != Metaspace)
            {
                TokenizeWord(word[start..i], ids, ignoreMerges: false);
                start = i;
            }
        }
        TokenizeWord(word[start..], ids, ignoreMerges: false);
    }

    /// <summary>The cache maps a word to its final ids, whichever way they were found.</summary>
    private void TokenizeWord(ReadOnlySpan<char> word, List<int> ids, bool ignoreMerges)
    {
        if (_cacheBySpan.TryGetValue(word, out var cached))
        {
            ids.AddRange(cached);
            return;
        }
        var result = ignoreMerges && _vocabBySpan.TryGetValue(word, out var whole) ? [whole] : Merge(word);
        if (word.Length <= MaxCachedWordLength && Volatile.Read(ref _cacheCount) < CacheCapacity
            && _cacheBySpan.TryAdd(word, result))
        {
            Interlocked.Increment(ref _cacheCount);
        }
        ids.AddRange(result);
    }

    private static bool HasMetaspaceAfterOtherChar(string token)
    {
        for (var i = 1; i < token.Length; i++)
        {
            if (token[i] == Metaspace && token[i - 1] != Metaspace)
            {
                return true;
            }
        }
        return false;
    }

    private int[] Merge(ReadOnlySpan<char> word)
    {
        var symbols = new List<int>(word.Length);
        AddInitialSymbols(word, symbols);
        return _merges.Apply([.. symbols]);
    }

    /// <summary>One symbol per character; unknown characters as byte tokens or (fused) unk.</summary>
    private void AddInitialSymbols(ReadOnlySpan<char> word, List<int> symbols)
    {
        var pendingUnk = false;
        for (var i = 0; i < word.Length; i++)
        {
            var charLength = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var ch = word.Slice(i, charLength);
            var isFirst = i == 0;
            var isLast = i + charLength == word.Length;
            i += charLength - 1;

            var id = LookUpSymbol(ch, isFirst, isLast, out var text);
            if (id >= 0)
            {
                FlushUnk(ref pendingUnk, symbols);
                symbols.Add(id);
                continue;
            }
            if (Options.ByteFallback && TryAddBytes(text ?? ch.ToString(), ref pendingUnk, symbols))
            {
                continue;
            }
            if (_unkId >= 0)
            {
                if (!Options.FuseUnk)
                {
                    FlushUnk(ref pendingUnk, symbols);
                }
                pendingUnk = true;
            }
            // Without an unk token an unknown character is dropped, as in HF tokenizers.
        }
        FlushUnk(ref pendingUnk, symbols);
    }

    private int LookUpSymbol(ReadOnlySpan<char> ch, bool isFirst, bool isLast, out string? text)
    {
        text = null;
        if (_charIds is not null)
        {
            return ch.Length == 1 ? _charIds[ch[0]] : _vocabBySpan.TryGetValue(ch, out var id) ? id : -1;
        }
        var prefix = !isFirst ? Options.ContinuingSubwordPrefix : null;
        var suffix = isLast ? Options.EndOfWordSuffix : null;
        text = string.Concat(prefix, ch.ToString(), suffix);
        return _vocab.GetValueOrDefault(text, -1);
    }

    private bool TryAddBytes(string text, ref bool pendingUnk, List<int> symbols)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        var n = Encoding.UTF8.GetBytes(text, bytes);
        foreach (var b in bytes[..n])
        {
            if (_byteIds[b] < 0)
            {
                return false;
            }
        }
        FlushUnk(ref pendingUnk, symbols);
        foreach (var b in bytes[..n])
        {
            symbols.Add(_byteIds[b]);
        }
        return true;
    }

    private void FlushUnk(ref bool pendingUnk, List<int> symbols)
    {
        if (pendingUnk)
        {
            symbols.Add(_unkId);
            pendingUnk = false;
        }
    }
}
