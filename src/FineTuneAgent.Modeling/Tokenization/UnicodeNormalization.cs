using System.Buffers;
using System.Text;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// Canonical Unicode normalization (NFC, NFD) following UAX #15, over the tables in
/// <see cref="UnicodeNormalizationData"/>. We carry our own because <c>string.Normalize</c> leaves
/// non-ASCII text untouched when the process runs with InvariantGlobalization (as ours does).
/// Text that is already normalized comes back as the same instance, after a quick check that
/// touches each character once.
/// </summary>
internal static class UnicodeNormalization
{
    private const int HangulSBase = 0xAC00, HangulLBase = 0x1100, HangulVBase = 0x1161, HangulTBase = 0x11A7;
    private const int HangulLCount = 19, HangulVCount = 21, HangulTCount = 28;
    private const int HangulNCount = HangulVCount * HangulTCount, HangulSCount = HangulLCount * HangulNCount;

    /// <summary>Every character below these is its own NFC (resp. NFD) and never combines with a
    /// neighbour: U+0300 is the first combining mark, U+00C0 the first precomposed letter.</summary>
    private const char FirstNotNfcInert = '\u0300', FirstNotNfdInert = '\u00C0';

    private static readonly Tables s_tables = new();

    public static string Nfc(string text) => IsQuickYes(text, composed: true) ? text : Normalize(text, compose: true);

    public static string Nfd(string text) => IsQuickYes(text, composed: false) ? text : Normalize(text, compose: false);

    /// <summary>NFC (<paramref name="compose"/>) or NFD; the same memory when nothing changes.</summary>
    public static ReadOnlyMemory<char> Normalize(ReadOnlyMemory<char> text, bool compose) =>
        IsQuickYes(text.Span, compose) ? text : Normalize(text.Span, compose).AsMemory();

    /// <summary>True when no character of the text can change under the normalization form.</summary>
    private static bool IsQuickYes(ReadOnlySpan<char> span, bool composed)
    {
        var i = span.IndexOfAnyInRange(composed ? FirstNotNfcInert : FirstNotNfdInert, '\uFFFF');
        if (i < 0)
        {
            return true;
        }
        var flags = composed ? s_tables.NfcMaybeBmp : s_tables.NfdMaybeBmp;
        for (; i < span.Length; i++)
        {
            var c = span[i];
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                var cp = char.ConvertToUtf32(c, span[++i]);
                if (composed ? s_tables.NfcMaybeSupplementary.Contains(cp) : s_tables.NfdMaybeSupplementary.Contains(cp))
                {
                    return false;
                }
            }
            else if ((flags[c >> 3] & (1 << (c & 7))) != 0)
            {
                return false;
            }
        }
        return true;
    }

    private static string Normalize(ReadOnlySpan<char> text, bool compose)
    {
        var buffer = ArrayPool<int>.Shared.Rent(text.Length * 4 + 4);
        try
        {
            var n = Decompose(text, ref buffer);
            ReorderCanonically(buffer.AsSpan(0, n));
            if (compose)
            {
                n = Compose(buffer.AsSpan(0, n));
            }
            var builder = new StringBuilder(n + 8);
            foreach (var cp in buffer.AsSpan(0, n))
            {
                if (cp < 0x10000)
                {
                    builder.Append((char)cp);
                }
                else
                {
                    builder.Append(char.ConvertFromUtf32(cp));
                }
            }
            return builder.ToString();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }

    private static int Decompose(ReadOnlySpan<char> text, ref int[] buffer)
    {
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[++i]);
            }
            if (n + 8 > buffer.Length)
            {
                var bigger = ArrayPool<int>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, n).CopyTo(bigger);
                ArrayPool<int>.Shared.Return(buffer);
                buffer = bigger;
            }
            var s = cp - HangulSBase;
            if (s is >= 0 and < HangulSCount)
            {
                buffer[n++] = HangulLBase + s / HangulNCount;
                buffer[n++] = HangulVBase + s % HangulNCount / HangulTCount;
                if (s % HangulTCount != 0)
                {
                    buffer[n++] = HangulTBase + s % HangulTCount;
                }
            }
            else if (s_tables.Decompositions.TryGetValue(cp, out var parts))
            {
                parts.CopyTo(buffer, n);
                n += parts.Length;
            }
            else
            {
                buffer[n++] = cp;
            }
        }
        return n;
    }

    /// <summary>Stable-sorts every run of non-starters by combining class.</summary>
    private static void ReorderCanonically(Span<int> cps)
    {
        for (var i = 1; i < cps.Length; i++)
        {
            var ccc = CombiningClass(cps[i]);
            if (ccc == 0)
            {
                continue;
            }
            var j = i;
            while (j > 0 && CombiningClass(cps[j - 1]) > ccc)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    /// <summary>The canonical composition algorithm of UAX #15; returns the new length.</summary>
    private static int Compose(Span<int> cps)
    {
        if (cps.Length == 0)
        {
            return 0;
        }
        var starterIndex = 0;
        var lastClass = CombiningClass(cps[0]);
        if (lastClass != 0)
        {
            lastClass = 256; // no starter yet: nothing may compose with it
        }
        var length = 1;
        for (var i = 1; i < cps.Length; i++)
        {
            var cp = cps[i];
            var ccc = CombiningClass(cp);
            if ((lastClass < ccc || lastClass == 0) && TryCompose(cps[starterIndex], cp, out var composite))
            {
                cps[starterIndex] = composite;
                continue;
            }
            if (ccc == 0)
            {
                starterIndex = length;
            }
            lastClass = ccc;
            cps[length++] = cp;
        }
        return length;
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        var l = first - HangulLBase;
        if (l is >= 0 and < HangulLCount)
        {
            var v = second - HangulVBase;
            if (v is >= 0 and < HangulVCount)
            {
                composite = HangulSBase + (l * HangulVCount + v) * HangulTCount;
                return true;
            }
        }
        var s = first - HangulSBase;
        if (s is >= 0 and < HangulSCount && s % HangulTCount == 0)
        {
            var t = second - HangulTBase;
            if (t is > 0 and < HangulTCount)
            {
                composite = first + t;
                return true;
            }
        }
        return s_tables.Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private static int CombiningClass(int cp) =>
        cp < 0x10000 ? s_tables.CombiningClassBmp[cp] : s_tables.CombiningClassSupplementary.GetValueOrDefault(cp);

    private sealed class Tables
    {
        public readonly byte[] CombiningClassBmp = new byte[0x10000];
        public readonly Dictionary<int, byte> CombiningClassSupplementary = [];
        public readonly Dictionary<int, int[]> Decompositions = [];
        public readonly Dictionary<long, int> Compositions = [];
        // One bit per BMP character that may change (or make a neighbour change) under NFC / NFD.
        public readonly byte[] NfcMaybeBmp = new byte[0x10000 / 8];
        public readonly byte[] NfdMaybeBmp = new byte[0x10000 / 8];
        public readonly HashSet<int> NfcMaybeSupplementary = [];
        public readonly HashSet<int> NfdMaybeSupplementary = [];

        public Tables()
        {
            var ranks = UnicodeNormalizationData.CombiningClassRanks;
            for (var i = 0; i < ranks.Length; i += 2)
            {
                if (ranks[i] < 0x10000)
                {
                    CombiningClassBmp[ranks[i]] = (byte)ranks[i + 1];
                }
                else
                {
                    CombiningClassSupplementary[ranks[i]] = (byte)ranks[i + 1];
                }
                Flag(ranks[i], nfc: true, nfd: true);
            }

            var compositions = UnicodeNormalizationData.Compositions;
            var primaryComposites = new HashSet<int>();
            for (var i = 0; i < compositions.Length; i += 3)
            {
                Compositions[((long)compositions[i] << 21) | (uint)compositions[i + 1]] = compositions[i + 2];
                primaryComposites.Add(compositions[i + 2]);
                Flag(compositions[i + 1], nfc: true, nfd: false); // may combine with what precedes it
            }

            var decompositions = UnicodeNormalizationData.Decompositions;
            for (var i = 0; i < decompositions.Length;)
            {
                var cp = decompositions[i];
                var n = decompositions[i + 1];
                Decompositions[cp] = decompositions.Slice(i + 2, n).ToArray();
                // A primary composite is its own NFC; anything else with a decomposition is not.
                Flag(cp, nfc: !primaryComposites.Contains(cp), nfd: true);
                i += 2 + n;
            }

            for (var cp = HangulSBase; cp < HangulSBase + HangulSCount; cp++)
            {
                Flag(cp, nfc: false, nfd: true);
            }
            for (var cp = HangulVBase; cp < HangulVBase + HangulVCount; cp++)
            {
                Flag(cp, nfc: true, nfd: false);
            }
            for (var cp = HangulTBase + 1; cp < HangulTBase + HangulTCount; cp++)
            {
                Flag(cp, nfc: true, nfd: false);
            }
        }

        private void Flag(int cp, bool nfc, bool nfd)
        {
            if (cp < 0x10000)
            {
                if (nfc)
                {
                    NfcMaybeBmp[cp >> 3] |= (byte)(1 << (cp & 7));
                }
                if (nfd)
                {
                    NfdMaybeBmp[cp >> 3] |= (byte)(1 << (cp & 7));
                }
            }
            else
            {
                if (nfc)
                {
                    NfcMaybeSupplementary.Add(cp);
                }
                if (nfd)
                {
                    NfdMaybeSupplementary.Add(cp);
                }
            }
        }
    }
}
