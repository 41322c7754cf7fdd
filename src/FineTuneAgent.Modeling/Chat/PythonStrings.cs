namespace FineTuneAgent.Modeling.Chat;

/// <summary>
/// Python's str.strip/lstrip/rstrip, which chat templates call (Jinja's <c>trim</c> filter is strip()).
/// Python's whitespace differs from .NET's: it includes U+001C..U+001F.
/// </summary>
internal static class PythonStrings
{
    private const string Whitespace =
        " \t\n\v\f\r\u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

    public static string Strip(string s, string? chars = null) => s.Trim((chars ?? Whitespace).ToCharArray());

    public static string LStrip(string s, string? chars = null) => s.TrimStart((chars ?? Whitespace).ToCharArray());

    public static string RStrip(string s, string? chars = null) => s.TrimEnd((chars ?? Whitespace).ToCharArray());

    /// <summary><c>s.split(sep)[0]</c>.</summary>
    public static string BeforeFirst(string s, string sep)
    {
        var at = s.IndexOf(sep, StringComparison.Ordinal);
        return at < 0 ? s : s[..at];
    }

    /// <summary><c>s.split(sep)[-1]</c>.</summary>
    public static string AfterLast(string s, string sep)
    {
        var at = s.LastIndexOf(sep, StringComparison.Ordinal);
        return at < 0 ? s : s[(at + sep.Length)..];
    }
}
