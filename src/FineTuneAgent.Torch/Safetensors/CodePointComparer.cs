namespace FineTuneAgent.Torch;

/// <summary>
/// Orders strings by Unicode code point, as Rust's String and Python's str compare, so names
/// sort as the reference writer and json.dumps(sort_keys=True) sort them. Plain ordinal
/// comparison orders UTF-16 code units, which differs when a surrogate pair meets U+E000–U+FFFF.
/// </summary>
internal sealed class CodePointComparer : IComparer<string>
{
    public static CodePointComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
            return x is null ? (y is null ? 0 : -1) : 1;
        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            if (x[i] != y[i])
                return Rank(x[i]).CompareTo(Rank(y[i]));
        }
        return x.Length.CompareTo(y.Length);
    }

    // Moves surrogates (U+D800–U+DFFF) above U+E000–U+FFFF: they encode code points past U+FFFF.
    private static int Rank(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
}
