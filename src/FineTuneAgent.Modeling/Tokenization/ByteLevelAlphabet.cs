namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c>: every byte gets a printable character, so byte-level BPE works
/// on strings. The 188 printable bytes (0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF) map to themselves; the
/// other 68 map, in byte order, to U+0100.. (space 0x20 becomes 'Ġ' U+0120, '\n' becomes 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Highest character the mapping produces (U+0143).</summary>
    public const char MaxChar = '\u0143';

    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly short[] s_charToByte = BuildCharToByte(s_byteToChar);

    public static ReadOnlySpan<char> ByteToChar => s_byteToChar;

    /// <summary>The byte a character stands for, or -1 if it is not part of the alphabet.</summary>
    public static int CharToByte(char c) => c <= MaxChar ? s_charToByte[c] : -1;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var map = new short[MaxChar + 1];
        Array.Fill(map, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }
        return map;
    }
}
