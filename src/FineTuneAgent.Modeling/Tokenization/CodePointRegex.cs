using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>
/// A regex from a tokenizer.json (written for Oniguruma, which HF tokenizers uses) run with .NET's
/// engine, matching code points the way Oniguruma does.
/// <para>
/// .NET regexes see UTF-16 units: an emoji or a CJK Extension B letter is two surrogates of
/// category Cs, so <c>\p{L}</c> misses U+20000 and <c>[^\p{L}]?\p{L}+</c> splits "😀abc"
/// differently. When the text holds surrogates we match against a shadow string with one char per
/// code point, where a supplementary code point is replaced by a BMP stand-in of the same Unicode
/// category, and map the match offsets back. Category is all that the supported patterns can
/// observe of a supplementary character (it never equals a literal and has no whitespace).
/// </para>
/// <para>
/// The pattern is translated only where the engines' syntax means different things: <c>^</c>/<c>$</c>
/// are line anchors (Multiline), <c>\w</c> is Oniguruma's Unicode word class, and inside
/// case-insensitive groups an <c>s</c> also matches U+017F (ſ), as Unicode case folding says.
/// POSIX brackets and class intersections are refused rather than silently misread.
/// </para>
/// </summary>
internal sealed class CodePointRegex
{
    private const string WordClassBody = @"\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\u200C\u200D";

    private readonly Regex _regex;

    public CodePointRegex(string pattern)
    {
        Pattern = pattern;
        _regex = new Regex(Translate(pattern),
            RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    /// <summary>The pattern as written in the tokenizer file.</summary>
    public string Pattern { get; }

    /// <summary>Appends every non-overlapping match (start, length), leftmost first.</summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int Length)> matches)
    {
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text))
            {
                if (m.Length > 0)
                {
                    matches.Add((m.Index, m.Length));
                }
            }
            return;
        }
        FindMatchesWithSurrogates(text, matches);
    }

    private void FindMatchesWithSurrogates(ReadOnlySpan<char> text, List<(int Start, int Length)> matches)
    {
        var shadow = ArrayPool<char>.Shared.Rent(text.Length);
        var offsets = ArrayPool<int>.Shared.Rent(text.Length + 1); // shadow index -> text index
        try
        {
            var n = 0;
            for (var i = 0; i < text.Length; i++)
            {
                offsets[n] = i;
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    shadow[n++] = StandIn(char.ConvertToUtf32(text[i], text[i + 1]));
                    i++;
                }
                else
                {
                    shadow[n++] = text[i];
                }
            }
            offsets[n] = text.Length;
            foreach (var m in _regex.EnumerateMatches(shadow.AsSpan(0, n)))
            {
                if (m.Length > 0)
                {
                    var start = offsets[m.Index];
                    matches.Add((start, offsets[m.Index + m.Length] - start));
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(shadow);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    /// <summary>A BMP character with the same Unicode category as the code point.</summary>
    internal static char StandIn(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
    {
        UnicodeCategory.UppercaseLetter => '\uA640',
        UnicodeCategory.LowercaseLetter => '\uA641',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\uA000',
        UnicodeCategory.NonSpacingMark => '\uA66F',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u2460',
        UnicodeCategory.ConnectorPunctuation => '\u2040',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u2039',
        UnicodeCategory.FinalQuotePunctuation => '\u203A',
        UnicodeCategory.OtherPunctuation => '\u203B',
        UnicodeCategory.MathSymbol => '\u2200',
        UnicodeCategory.CurrencySymbol => '\u20A0',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.OtherSymbol => '\u2100',
        UnicodeCategory.Format => '\u2061',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };

    /// <summary>Oniguruma syntax to .NET syntax; throws <see cref="ArgumentException"/> when unsupported.</summary>
    internal static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var caseInsensitive = new Stack<bool>();
        var ci = false;
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var e = pattern[++i];
                switch (e)
                {
                    case 'w':
                        sb.Append(inClass ? WordClassBody : "[" + WordClassBody + "]");
                        break;
                    case 'W' when !inClass:
                        sb.Append("[^" + WordClassBody + "]");
                        break;
                    case 'W':
                        throw new ArgumentException(@"'\W' inside a character class is not supported");
                    case 'p' or 'P' when i + 1 < pattern.Length && pattern[i + 1] == '{':
                        var close = pattern.IndexOf('}', i);
                        if (close < 0)
                        {
                            throw new ArgumentException("unterminated \\p{...}");
                        }
                        sb.Append(c).Append(pattern, i, close - i + 1);
                        i = close;
                        break;
                    case 'x' when i + 1 < pattern.Length && pattern[i + 1] == '{':
                        var end = pattern.IndexOf('}', i);
                        if (end < 0 || !int.TryParse(pattern.AsSpan(i + 2, end - i - 2), NumberStyles.HexNumber,
                                CultureInfo.InvariantCulture, out var value) || value > 0xFFFF)
                        {
                            throw new ArgumentException("only \\x{...} escapes of BMP characters are supported");
                        }
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{value:X4}");
                        i = end;
                        break;
                    case 'h' or 'H' or 'G' or 'K' or 'R' or 'X' or 'y' or 'Y' or 'O' or 'N':
                        throw new ArgumentException($"'\\{e}' (Oniguruma-specific) is not supported");
                    default:
                        sb.Append(c).Append(e);
                        break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] is ':' or '=' or '.')
                {
                    throw new ArgumentException("POSIX bracket expressions ([:alpha:] etc.) are not supported");
                }
                if (c == '[')
                {
                    throw new ArgumentException("nested character classes are not supported");
                }
                if (c == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&')
                {
                    throw new ArgumentException("character class intersection (&&) is not supported");
                }
                if (c == ']')
                {
                    inClass = false;
                }
                else if (ci && c is 's' or 'S')
                {
                    sb.Append(c).Append('\u017F');
                    continue;
                }
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        sb.Append('^');
                        i++;
                    }
                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        sb.Append(@"\]"); // a leading ']' is literal
                        i++;
                    }
                    break;
                case '(':
                    if (ReadGroupFlags(pattern, i) is { } f)
                    {
                        var newCi = f.On.Contains('i') || (ci && !f.Off.Contains('i'));
                        if (pattern[f.End] == ')')
                        {
                            // "(?i)" changes the rest of the enclosing group.
                            ci = newCi;
                            sb.Append(pattern, i, f.End - i + 1);
                            i = f.End;
                            break;
                        }
                        caseInsensitive.Push(ci);
                        ci = newCi;
                        sb.Append(c);
                        break;
                    }
                    caseInsensitive.Push(ci);
                    sb.Append(c);
                    break;
                case ')':
                    if (caseInsensitive.Count > 0)
                    {
                        ci = caseInsensitive.Pop();
                    }
                    sb.Append(c);
                    break;
                case 's' or 'S' when ci:
                    sb.Append("[sS\u017F]");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>For "(?flags:" or "(?flags)" at <paramref name="i"/>: the flags turned on and off,
    /// and the index of the ':' or ')' that ends them.</summary>
    private static (string On, string Off, int End)? ReadGroupFlags(string pattern, int i)
    {
        if (i + 2 >= pattern.Length || pattern[i + 1] != '?')
        {
            return null;
        }
        var j = i + 2;
        var on = new StringBuilder();
        var off = new StringBuilder();
        var target = on;
        for (; j < pattern.Length; j++)
        {
            var c = pattern[j];
            if (c == '-')
            {
                target = off;
            }
            else if (char.IsAsciiLetter(c))
            {
                target.Append(c);
            }
            else
            {
                break;
            }
        }
        if (j >= pattern.Length || (pattern[j] != ':' && pattern[j] != ')') || (on.Length == 0 && off.Length == 0))
        {
            return null;
        }
        return (on.ToString(), off.ToString(), j);
    }
}
