namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Scratch storage for text that pre-tokenizers rewrite (byte-level characters, '▁' for spaces),
/// so a pre-token costs no allocation. Memory handed out stays valid until <see cref="Reset"/>:
/// when the buffer is full a bigger one replaces it, and earlier slices keep the old one alive.
/// </summary>
internal sealed class CharArena
{
    private const int InitialSize = 4096, MaxKeptSize = 1 << 20;

    private char[] _buffer = new char[InitialSize];
    private int _used;

    /// <summary>Starts over; a buffer grown past 1 M chars by a huge text is let go.</summary>
    public void Reset()
    {
        _used = 0;
        if (_buffer.Length > MaxKeptSize)
        {
            _buffer = new char[InitialSize];
        }
    }

    /// <summary>Reserves <paramref name="length"/> chars to write into.</summary>
    public Memory<char> Allocate(int length)
    {
        if (_used + length > _buffer.Length)
        {
            _buffer = new char[Math.Max(_buffer.Length * 2, length)];
            _used = 0;
        }
        var memory = _buffer.AsMemory(_used, length);
        _used += length;
        return memory;
    }
}
