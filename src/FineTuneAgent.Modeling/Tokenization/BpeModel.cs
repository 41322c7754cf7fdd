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
    /// <summary>Words up to this many symbols merge by scanning; longer ones use a heap.</summary>
    private const int ScanLimit = 64;
    private const int MaxCachedWordLength = 256;
    private const int CacheCapacity = 100_000;
    private const char Metaspace = '\u2581';

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly string?[] _idToToken;
    private readonly Dictionary<long, long> _merges; // (left id << 32 | right id) -> (rank << 32 | merged id)
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

        var prefix = options.ContinuingSubwordPrefix ?? "";
        _merges = new Dictionary<long, long>(merges.Count, PairComparer.Instance);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            var merged = prefix.Length > 0 && right.StartsWith(prefix, StringComparison.Ordinal)
                ? left + right[prefix.Length..]
                : left + right;
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId))
            {
                throw new ArgumentException($"merges[{rank}] ('{left}' '{right}') uses a token missing from the vocabulary");
            }
            if (!vocab.TryGetValue(merged, out var mergedId))
            {
                throw new ArgumentException($"merges[{rank}] produces '{merged}', which is missing from the vocabulary");
            }
            _merges[((long)leftId << 32) | (uint)rightId] = ((long)rank << 32) | (uint)mergedId;
        }
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
        var n = symbols.Count;
        if (n <= 1)
        {
            return [.. symbols];
        }
        var syms = symbols.ToArray();
        return n <= ScanLimit ? MergeByScanning(syms) : MergeWithHeap(syms);
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

    private long PairMerge(int left, int right) =>
        _merges.TryGetValue(((long)left << 32) | (uint)right, out var merge) ? merge : long.MaxValue;

    /// <summary>For short words: keep each adjacent pair's merge, merge the best, update its neighbours.</summary>
    private int[] MergeByScanning(int[] syms)
    {
        var n = syms.Length;
        Span<long> pairs = stackalloc long[n - 1]; // rank << 32 | merged id, or MaxValue
        for (var i = 0; i < n - 1; i++)
        {
            pairs[i] = PairMerge(syms[i], syms[i + 1]);
        }
        while (n > 1)
        {
            var best = 0;
            for (var i = 1; i < n - 1; i++)
            {
                if (pairs[i] < pairs[best])
                {
                    best = i;
                }
            }
            if (pairs[best] == long.MaxValue)
            {
                break;
            }
            syms[best] = (int)(pairs[best] & 0xFFFFFFFF);
            Array.Copy(syms, best + 2, syms, best + 1, n - best - 2);
            pairs[(best + 1)..(n - 1)].CopyTo(pairs[best..]);
            n--;
            if (best > 0)
            {
                pairs[best - 1] = PairMerge(syms[best - 1], syms[best]);
            }
            if (best < n - 1)
            {
                pairs[best] = PairMerge(syms[best], syms[best + 1]);
            }
        }
        return syms[..n];
    }

    /// <summary>For long words, HF's algorithm: a min-heap of (rank, position) over a linked list.</summary>
    private int[] MergeWithHeap(int[] syms)
    {
        var n = syms.Length;
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }
        var queue = new PriorityQueue<(int Pos, int MergedId), long>(n);
        for (var i = 0; i < n - 1; i++)
        {
            Push(queue, i, PairMerge(syms[i], syms[i + 1]));
        }
        while (queue.TryDequeue(out var top, out _))
        {
            var pos = top.Pos;
            if (!alive[pos] || next[pos] < 0)
            {
                continue;
            }
            var right = next[pos];
            var current = PairMerge(syms[pos], syms[right]);
            if (current == long.MaxValue || (int)(current & 0xFFFFFFFF) != top.MergedId)
            {
                continue; // stale entry
            }
            syms[pos] = top.MergedId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0)
            {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0)
            {
                Push(queue, prev[pos], PairMerge(syms[prev[pos]], syms[pos]));
            }
            if (next[pos] >= 0)
            {
                Push(queue, pos, PairMerge(syms[pos], syms[next[pos]]));
            }
        }
        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i])
        {
            result.Add(syms[i]);
        }
        return [.. result];
    }

    /// <summary>
    /// Hashes an id pair packed in a long. long's own hash XORs the halves, which maps the pairs
    /// of frequent (small) ids onto a few buckets and made merging 50x slower.
    /// </summary>
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long pair) => (int)((ulong)pair * 0x9E3779B97F4A7C15UL >> 32);
    }

    private static void Push(PriorityQueue<(int Pos, int MergedId), long> queue, int pos, long merge)
    {
        if (merge != long.MaxValue)
        {
            var rank = merge >> 32;
            queue.Enqueue((pos, (int)(merge & 0xFFFFFFFF)), (rank << 32) | (uint)pos);
        }
    }
}
