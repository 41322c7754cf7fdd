namespace FineTuneAgent.Core.Datasets;

/// <summary>Byte offsets of a UTF-8 text to 1-based line numbers.</summary>
internal sealed class LineMap
{
    private readonly List<long> _lineStarts = [0];

    public LineMap(ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < text.Length; i++)
            if (text[i] == (byte)'\n')
                _lineStarts.Add(i + 1);
    }

    public int LineOf(long offset)
    {
        var i = _lineStarts.BinarySearch(offset);
        return (i >= 0 ? i : ~i - 1) + 1;
    }
}
