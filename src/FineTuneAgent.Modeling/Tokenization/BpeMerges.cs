namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A BPE model's merge table, over token ids: the pair (left, right) merges into the token
/// left+right with the rank of its line in <c>merges</c>. <see cref="Apply"/> merges a word's
/// symbols the way HF tokenizers' <c>Word::merge_all</c> does: always the pair of lowest rank,
/// the leftmost on ties, until none is left.
/// </summary>
internal sealed class BpeMerges
{
    /// <summary>Words up to this many symbols merge by scanning; longer ones use a heap.</summary>
    private const int ScanLimit = 64;

    private readonly Dictionary<long, long> _merges; // (left id << 32 | right id) -> (rank << 32 | merged id)

    /// <exception cref="ArgumentException">A merge uses or produces a token the vocabulary lacks.</exception>
    public BpeMerges(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? continuingSubwordPrefix)
    {
        var prefix = continuingSubwordPrefix ?? "";
        var vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> buffer = stackalloc char[256];
        _merges = new Dictionary<long, long>(merges.Count, PairComparer.Instance);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId))
            {
                throw new ArgumentException($"merges[{rank}] ('{left}' '{right}') uses a token missing from the vocabulary");
            }
            var rightPart = prefix.Length > 0 && right.StartsWith(prefix, StringComparison.Ordinal) ? right.AsSpan(prefix.Length) : right;
            var length = left.Length + rightPart.Length;
            var merged = length <= buffer.Length ? buffer[..length] : new char[length];
            left.AsSpan().CopyTo(merged);
            rightPart.CopyTo(merged[left.Length..]);
            if (!vocabBySpan.TryGetValue(merged, out var mergedId))
            {
                throw new ArgumentException($"merges[{rank}] produces '{merged}', which is missing from the vocabulary");
            }
            _merges[((long)leftId << 32) | (uint)rightId] = ((long)rank << 32) | (uint)mergedId;
        }
    }

    /// <summary>The merged symbols of a word (the array may be reused for the result).</summary>
    public int[] Apply(int[] symbols) =>
        symbols.Length <= 1 ? symbols : symbols.Length <= ScanLimit ? MergeByScanning(symbols) : MergeWithHeap(symbols);

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
