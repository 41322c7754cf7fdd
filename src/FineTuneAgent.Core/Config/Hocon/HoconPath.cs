using System.Text;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Path expressions (<c>a.b."c.d"</c>): parsing them from text, and writing them back with the
/// quoting that makes them parse to the same elements.
/// </summary>
public static class HoconPath
{
    /// <summary>The elements of a path expression, as a key or a substitution would read it.</summary>
    public static IReadOnlyList<string> Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var tokens = new HoconLexer(expression, "<path>").Tokenize();
        var builder = new Builder(tokens[0].Position);
        var parts = tokens.Where(t => t.Kind != HoconTokenKind.End).ToList();
        while (parts.Count > 0 && parts[0].Kind == HoconTokenKind.Whitespace)
            parts.RemoveAt(0);
        while (parts.Count > 0 && parts[^1].Kind == HoconTokenKind.Whitespace)
            parts.RemoveAt(parts.Count - 1);
        foreach (var t in parts)
        {
            if (!t.IsKeyPart && t.Kind != HoconTokenKind.Whitespace)
                throw new HoconException(t.Position, $"{t.Describe()} cannot be part of a path expression");
            builder.Add(t);
        }
        return builder.Build();
    }

    /// <summary>The path written as an expression: elements joined by '.', quoted where needed.</summary>
    public static string Render(IEnumerable<string> path) => string.Join('.', path.Select(RenderElement));

    private static string RenderElement(string element)
    {
        var plain = element.Length > 0 && !char.IsAsciiDigit(element[0]) && element[0] != '-'
            && element is not ("true" or "false" or "null" or "include")
            && element.All(c => !HoconLexer.IsForbidden(c) && c != '.' && !HoconLexer.IsWhitespace(c))
            && !element.Contains("//", StringComparison.Ordinal);
        return plain ? element : HoconStrings.Quote(element);
    }

    internal static string Key(IEnumerable<string> path) => string.Join('\u0000', path);

    internal static bool StartsWith(IReadOnlyList<string> path, IReadOnlyList<string> prefix) =>
        prefix.Count <= path.Count && prefix.Select((p, i) => p == path[i]).All(same => same);

    /// <summary>
    /// Builds path elements from the tokens of a key or a substitution: '.' outside quotes splits
    /// (in numbers too: <c>1.2.3</c> is three elements), quoted text never splits, whitespace
    /// between tokens is kept. An element that is empty without being quoted is an error.
    /// </summary>
    internal sealed class Builder(HoconPosition start)
    {
        private readonly List<string> _elements = [];
        private readonly StringBuilder _current = new();
        private bool _started;
        private HoconPosition _position = start;

        public void Add(HoconToken token)
        {
            if (token.Kind == HoconTokenKind.QuotedString)
            {
                _current.Append(token.Text);
                _started = true;
                return;
            }
            for (var i = 0; i < token.Text.Length; i++)
            {
                if (token.Text[i] == '.' && token.Kind != HoconTokenKind.Whitespace)
                {
                    EndElement(token.Position with { Column = token.Position.Column + i });
                    continue;
                }
                _current.Append(token.Text[i]);
                _started |= token.Kind != HoconTokenKind.Whitespace;
            }
            _position = token.Position;
        }

        public IReadOnlyList<string> Build()
        {
            EndElement(_position);
            return _elements;
        }

        private void EndElement(HoconPosition at)
        {
            if (!_started)
                throw new HoconException(at, "empty path element: a path may not start or end with '.' or hold '..' (quote an empty key as \"\")");
            _elements.Add(_current.ToString());
            _current.Clear();
            _started = false;
        }
    }
}
