using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Splits HOCON text into tokens, following the spec's "Syntax" section: comments (<c>//</c>, <c>#</c>)
/// are dropped, newlines and other whitespace are tokens (the parser needs both: newlines separate,
/// other whitespace joins a value concatenation), <c>true</c>/<c>false</c>/<c>null</c> and numbers are
/// recognised only at the start of an unquoted run (<c>truefoo</c> is <c>true</c> then <c>foo</c>,
/// <c>footrue</c> one string), and a substitution <c>${a.b}</c> / <c>${?a.b}</c> is one token with its path.
/// </summary>
internal sealed partial class HoconLexer(string text, string file)
{
    private const string ForbiddenCharacters = "$\"{}[]:=,+#`^?!@*&\\";
    private int _i;
    private int _line = 1;
    private int _lineStart;

    /// <summary>Characters that end an unquoted string (besides whitespace and "//").</summary>
    public static bool IsForbidden(char c) => ForbiddenCharacters.Contains(c, StringComparison.Ordinal);

    /// <summary>The spec's whitespace: Unicode separators, the ASCII controls it lists, and the BOM.</summary>
    public static bool IsWhitespace(char c) => char.IsWhiteSpace(c) || c == '\uFEFF';

    public List<HoconToken> Tokenize()
    {
        var tokens = new List<HoconToken>();
        while (true)
        {
            var token = Next();
            if (token is null)
                continue;
            tokens.Add(token);
            if (token.Kind == HoconTokenKind.End)
                return tokens;
        }
    }

    private HoconPosition Here => new(file, _line, _i - _lineStart + 1);

    private char Peek(int ahead = 0) => _i + ahead < text.Length ? text[_i + ahead] : '\0';

    private bool AtEnd => _i >= text.Length;

    /// <summary>The next token, or null for a comment (skipped; its newline is the next token).</summary>
    private HoconToken? Next()
    {
        var start = Here;
        if (AtEnd)
            return new HoconToken(HoconTokenKind.End, "", start);
        var c = text[_i];
        if (c == '\n')
        {
            _i++;
            _line++;
            _lineStart = _i;
            return new HoconToken(HoconTokenKind.Newline, "\n", start);
        }
        if (IsWhitespace(c))
        {
            var from = _i;
            while (!AtEnd && text[_i] != '\n' && IsWhitespace(text[_i]))
                _i++;
            return new HoconToken(HoconTokenKind.Whitespace, text[from.._i], start);
        }
        if (c == '#' || (c == '/' && Peek(1) == '/'))
        {
            while (!AtEnd && text[_i] != '\n')
                _i++;
            return null;
        }
        switch (c)
        {
            case '{': _i++; return new HoconToken(HoconTokenKind.OpenBrace, "{", start);
            case '}': _i++; return new HoconToken(HoconTokenKind.CloseBrace, "}", start);
            case '[': _i++; return new HoconToken(HoconTokenKind.OpenBracket, "[", start);
            case ']': _i++; return new HoconToken(HoconTokenKind.CloseBracket, "]", start);
            case ',': _i++; return new HoconToken(HoconTokenKind.Comma, ",", start);
            case ':': _i++; return new HoconToken(HoconTokenKind.Colon, ":", start);
            case '=': _i++; return new HoconToken(HoconTokenKind.Equals, "=", start);
            case '+' when Peek(1) == '=':
                _i += 2;
                return new HoconToken(HoconTokenKind.PlusEquals, "+=", start);
            case '"':
                return Peek(1) == '"' && Peek(2) == '"' ? TripleQuoted(start) : new HoconToken(HoconTokenKind.QuotedString, Quoted(start), start);
            case '$':
                return Substitution(start);
        }
        if (IsForbidden(c))
            throw new HoconException(start, $"'{c}' is reserved in HOCON and cannot start a value; quote the string (\"...\") to use it");
        if (c == '-' || char.IsAsciiDigit(c))
            return Number(start);
        foreach (var (keyword, kind) in Keywords)
        {
            if (string.CompareOrdinal(text, _i, keyword, 0, keyword.Length) == 0)
            {
                _i += keyword.Length;
                return new HoconToken(kind, keyword, start);
            }
        }
        return new HoconToken(HoconTokenKind.UnquotedString, Unquoted(), start);
    }

    private static readonly (string, HoconTokenKind)[] Keywords = [("true", HoconTokenKind.True), ("false", HoconTokenKind.False), ("null", HoconTokenKind.Null)];

    /// <summary>An unquoted run: up to a forbidden character, whitespace or "//".</summary>
    private string Unquoted()
    {
        var from = _i;
        while (!AtEnd && !IsForbidden(text[_i]) && !IsWhitespace(text[_i]) && !(text[_i] == '/' && Peek(1) == '/'))
            _i++;
        return text[from.._i];
    }

    [GeneratedRegex(@"\G-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumber();

    /// <summary>The longest JSON number here; what follows (<c>10.0bar</c>'s "bar") is the next token.</summary>
    private HoconToken Number(HoconPosition start)
    {
        var m = JsonNumber().Match(text, _i);
        if (!m.Success)
            throw new HoconException(start, $"'{text[_i]}' must start a number here (an unquoted string may not begin with '-'); quote the string to use it");
        _i += m.Length;
        return new HoconToken(HoconTokenKind.Number, m.Value, start);
    }

    /// <summary>A JSON string: the escapes JSON has, no raw control characters (so no newline).</summary>
    private string Quoted(HoconPosition start)
    {
        _i++;
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd || text[_i] == '\n')
                throw new HoconException(start, "unterminated quoted string (a \"...\" string ends on its line; use \"\"\"...\"\"\" for text over several lines)");
            var c = text[_i];
            if (c == '"')
            {
                _i++;
                return sb.ToString();
            }
            if (c < 0x20)
                throw new HoconException(Here, $"control character U+{(int)c:X4} in a quoted string; write it as an escape (\\t, \\u{(int)c:x4})");
            if (c != '\\')
            {
                sb.Append(c);
                _i++;
                continue;
            }
            var at = Here;
            var e = Peek(1);
            _i += 2;
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (_i + 4 > text.Length || !int.TryParse(text.AsSpan(_i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        throw new HoconException(at, "\\u must be followed by four hexadecimal digits");
                    sb.Append((char)code);
                    _i += 4;
                    break;
                default:
                    throw new HoconException(at, $"invalid escape '\\{e}' in a quoted string (JSON's escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
        }
    }

    /// <summary>
    /// A """triple-quoted""" string: everything up to the closing quotes, newlines included, with
    /// no escapes. As in Scala, a run of more than three quotes ends it and the extra quotes
    /// belong to the string.
    /// </summary>
    private HoconToken TripleQuoted(HoconPosition start)
    {
        _i += 3;
        var from = _i;
        while (true)
        {
            if (AtEnd)
                throw new HoconException(start, "unterminated \"\"\" string");
            if (text[_i] == '"' && Peek(1) == '"' && Peek(2) == '"')
            {
                var run = 3;
                while (Peek(run) == '"')
                    run++;
                var value = text[from..(_i + run - 3)];
                _i += run;
                return new HoconToken(HoconTokenKind.QuotedString, value, start);
            }
            if (text[_i] == '\n')
            {
                _line++;
                _lineStart = _i + 1;
            }
            _i++;
        }
    }

    /// <summary><c>${path}</c> or <c>${?path}</c> (the '?' right after "${"); the path is a path expression.</summary>
    private HoconToken Substitution(HoconPosition start)
    {
        if (Peek(1) != '{')
            throw new HoconException(start, "'$' starts a substitution ${...}; quote the string to use a literal '$'");
        var tokenStart = _i;
        _i += 2;
        var optional = Peek() == '?';
        if (optional)
            _i++;
        var parts = new List<HoconToken>();
        while (true)
        {
            var at = Here;
            if (AtEnd || text[_i] == '\n')
                throw new HoconException(start, "unterminated substitution: '${' without its '}' on the same line");
            var c = text[_i];
            if (c == '}')
            {
                _i++;
                break;
            }
            if (IsWhitespace(c))
            {
                var from = _i;
                while (!AtEnd && text[_i] != '\n' && IsWhitespace(text[_i]))
                    _i++;
                parts.Add(new HoconToken(HoconTokenKind.Whitespace, text[from.._i], at));
            }
            else if (c == '"')
                parts.Add(new HoconToken(HoconTokenKind.QuotedString, Quoted(at), at));
            else if (IsForbidden(c))
                throw new HoconException(at, $"'{c}' cannot be part of a substitution's path");
            else
                parts.Add(new HoconToken(HoconTokenKind.UnquotedString, Unquoted(), at));
        }
        while (parts.Count > 0 && parts[0].Kind == HoconTokenKind.Whitespace)
            parts.RemoveAt(0);
        while (parts.Count > 0 && parts[^1].Kind == HoconTokenKind.Whitespace)
            parts.RemoveAt(parts.Count - 1);
        if (parts.Count == 0)
            throw new HoconException(start, "empty substitution ${}");
        var builder = new HoconPath.Builder(start);
        foreach (var p in parts)
            builder.Add(p);
        var path = builder.Build();
        return new HoconToken(HoconTokenKind.Substitution, text[tokenStart.._i], start)
        {
            SubstitutionPath = path,
            OptionalSubstitution = optional,
        };
    }
}
