namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Per-thread buffers reused by every encode call, so encoding a short text allocates little more
/// than its id array. An encode never re-enters itself, so one instance per thread is enough.
/// </summary>
internal sealed class EncodeScratch
{
    [ThreadStatic]
    private static EncodeScratch? t_current;

    private readonly Stack<List<PreToken>> _freeLists = new();

    public CharArena Arena { get; } = new();

    public List<(int Start, int Length)> Matches { get; } = [];

    public List<(int Start, int Length)> Pieces { get; } = [];

    public List<AddedVocabulary.Segment> Sections { get; } = [];

    public List<AddedVocabulary.Segment> Subsections { get; } = [];

    public List<int> Ids { get; } = [];

    public static EncodeScratch ForCurrentThread()
    {
        var scratch = t_current ??= new EncodeScratch();
        scratch.Arena.Reset();
        scratch.Ids.Clear();
        return scratch;
    }

    public List<PreToken> RentList() => _freeLists.TryPop(out var list) ? list : [];

    public void ReturnList(List<PreToken> list)
    {
        list.Clear();
        _freeLists.Push(list);
    }
}
