namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Recursive descent over the tokens of one file, to the unresolved tree (<see cref="HoconObjectNode"/>).
/// Follows the spec's syntax: omitted root braces, <c>:</c>/<c>=</c>/<c>+=</c> or a key followed directly by
/// <c>{</c>, commas or newlines between fields and elements (one trailing comma allowed), keys as path
/// expressions, value concatenation of what stands on one line, and includes (HoconParser.Include.cs).
/// </summary>
internal sealed partial class HoconParser
{
    private readonly List<HoconToken> _tokens;
    private readonly string _file;
    private readonly IReadOnlyList<string> _includePrefix;
    private readonly HoconParseContext _context;
    private int _p;

    /// <param name="file">The file as it is shown in positions; includes are found beside it.</param>
    /// <param name="includePrefix">Where this file is included (empty for the top file).</param>
    public HoconParser(string text, string file, IReadOnlyList<string> includePrefix, HoconParseContext context)
    {
        _tokens = new HoconLexer(text, file).Tokenize();
        _file = file;
        _includePrefix = includePrefix;
        _context = context;
    }

    private HoconToken Peek => _tokens[_p];

    private HoconToken Advance() => _tokens[_p++];

    /// <summary>The document's root object; a root array is refused (a configuration is an object).</summary>
    public HoconObjectNode ParseRoot()
    {
        SkipSpace(newlines: true);
        var first = Peek;
        if (first.Kind == HoconTokenKind.OpenBracket)
            throw new HoconException(first.Position, "the root of a configuration file must be an object, not an array");
        if (first.Kind != HoconTokenKind.OpenBrace)
        {
            var root = new HoconObjectNode(first.Position);
            ParseFields(root, [], open: null);
            return root;
        }
        var braced = ParseBracedObject([]);
        SkipSpace(newlines: true);
        if (Peek.Kind != HoconTokenKind.End)
            throw new HoconException(Peek.Position, $"unexpected {Peek.Describe()} after the root object's closing '}}'");
        return braced;
    }

    private void SkipSpace(bool newlines)
    {
        while (Peek.Kind == HoconTokenKind.Whitespace || (newlines && Peek.Kind == HoconTokenKind.Newline))
            _p++;
    }

    /// <summary>
    /// What separates two fields or elements: newlines, a comma, or both (a comma may come after
    /// the newlines). True when there was one; a second comma is left for the caller to refuse.
    /// </summary>
    private bool SkipSeparator()
    {
        var newline = false;
        while (Peek.Kind is HoconTokenKind.Whitespace or HoconTokenKind.Newline)
            newline |= Advance().Kind == HoconTokenKind.Newline;
        if (Peek.Kind != HoconTokenKind.Comma)
            return newline;
        Advance();
        return true;
    }

    /// <param name="localPath">The object's path from this file's root; null inside an array, where there is no path.</param>
    private HoconObjectNode ParseBracedObject(IReadOnlyList<string>? localPath)
    {
        var open = Advance();
        var obj = new HoconObjectNode(open.Position);
        ParseFields(obj, localPath, open);
        return obj;
    }

    /// <summary>Fields up to the closing brace (or the end of the file, when the root's braces are omitted).</summary>
    private void ParseFields(HoconObjectNode target, IReadOnlyList<string>? localPath, HoconToken? open)
    {
        while (true)
        {
            SkipSpace(newlines: true);
            var t = Peek;
            switch (t.Kind)
            {
                case HoconTokenKind.CloseBrace when open is not null:
                    Advance();
                    return;
                case HoconTokenKind.CloseBrace:
                    throw new HoconException(t.Position, "unbalanced '}': no '{' opened it");
                case HoconTokenKind.End when open is null:
                    return;
                case HoconTokenKind.End:
                    throw new HoconException(open.Position, "unterminated object: this '{' has no matching '}'");
                case HoconTokenKind.Comma:
                    throw new HoconException(t.Position, "unexpected ',' (a comma goes after a field, and only one)");
                case HoconTokenKind.UnquotedString when t.Text == "include":
                    ParseInclude(target, localPath);
                    break;
                default:
                    ParseField(target, localPath);
                    break;
            }
            if (!SkipSeparator() && Peek.Kind is not (HoconTokenKind.CloseBrace or HoconTokenKind.End))
                throw new HoconException(Peek.Position, $"expected ',' or a new line after a field, got {Peek.Describe()}");
        }
    }

    private void ParseField(HoconObjectNode target, IReadOnlyList<string>? localPath)
    {
        var keyStart = Peek;
        var keyParts = new List<HoconToken>();
        while (Peek.IsKeyPart || Peek.Kind == HoconTokenKind.Whitespace)
            keyParts.Add(Advance());
        while (keyParts.Count > 0 && keyParts[^1].Kind == HoconTokenKind.Whitespace)
            keyParts.RemoveAt(keyParts.Count - 1);
        if (keyParts.Count == 0)
        {
            throw new HoconException(keyStart.Position, keyStart.Kind == HoconTokenKind.Substitution
                ? "a substitution cannot be (part of) a key"
                : $"expected a key, got {keyStart.Describe()}");
        }
        var builder = new HoconPath.Builder(keyStart.Position);
        foreach (var part in keyParts)
            builder.Add(part);
        var key = builder.Build();
        var fieldPath = localPath is null ? null : (IReadOnlyList<string>)[.. localPath, .. key];
        var separator = Peek;
        HoconNode value;
        switch (separator.Kind)
        {
            case HoconTokenKind.Colon or HoconTokenKind.Equals:
                Advance();
                SkipSpace(newlines: true);
                value = ParseValue(fieldPath) ?? throw MissingValue(key, separator);
                break;
            case HoconTokenKind.PlusEquals:
                Advance();
                SkipSpace(newlines: true);
                var element = ParseValue(fieldPath) ?? throw MissingValue(key, separator);
                if (fieldPath is null)
                    throw new HoconException(separator.Position, "'+=' cannot be used inside an object in an array (it appends to a setting, and array elements have no path)");
                // The spec: `a += b` is `a = ${?a} [b]`, a self-referential array concatenation.
                value = new HoconConcatenationNode(separator.Position,
                    [new HoconSubstitutionNode(separator.Position, fieldPath, optional: true, _includePrefix), new HoconArrayNode(element.Position, [element])]);
                break;
            case HoconTokenKind.OpenBrace:
                value = ParseValue(fieldPath)!;
                break;
            case HoconTokenKind.Substitution:
                throw new HoconException(separator.Position, "a substitution cannot be (part of) a key");
            default:
                throw new HoconException(separator.Position, $"expected ':', '=', '+=' or '{{' after the key '{HoconPath.Render(key)}', got {separator.Describe()}");
        }
        // `a.b.c = v` is `a { b { c = v } }`.
        for (var i = key.Count - 1; i > 0; i--)
        {
            var wrapper = new HoconObjectNode(keyStart.Position);
            wrapper.Add(key[i], value);
            value = wrapper;
        }
        target.Add(key[0], value);
    }

    private HoconException MissingValue(IReadOnlyList<string> key, HoconToken separator) =>
        new(Peek.Position, $"expected a value for '{HoconPath.Render(key)}' after '{separator.Text}', got {Peek.Describe()}");

    /// <summary>
    /// A value concatenation: everything up to a comma, newline or closing bracket. One part keeps
    /// its type; parts without substitutions are combined now (strings joined with the whitespace
    /// between them, arrays appended, objects merged); anything else waits for resolution.
    /// </summary>
    private HoconNode? ParseValue(IReadOnlyList<string>? fieldPath)
    {
        var parts = new List<HoconNode>();
        while (true)
        {
            var t = Peek;
            HoconNode? part = t.Kind switch
            {
                HoconTokenKind.Whitespace => new HoconScalarNode(HoconScalar.String(t.Text, t.Position), isWhitespace: true),
                HoconTokenKind.OpenBrace => ParseBracedObject(fieldPath),
                HoconTokenKind.OpenBracket => ParseArray(),
                HoconTokenKind.QuotedString or HoconTokenKind.UnquotedString => new HoconScalarNode(HoconScalar.String(t.Text, t.Position)),
                HoconTokenKind.Number => new HoconScalarNode(new HoconScalar(HoconValueType.Number, t.Text, t.Position)),
                HoconTokenKind.True or HoconTokenKind.False => new HoconScalarNode(new HoconScalar(HoconValueType.Boolean, t.Text, t.Position)),
                HoconTokenKind.Null => new HoconScalarNode(new HoconScalar(HoconValueType.Null, t.Text, t.Position)),
                HoconTokenKind.Substitution => new HoconSubstitutionNode(t.Position, t.SubstitutionPath!, t.OptionalSubstitution, _includePrefix),
                _ => null,
            };
            if (part is null)
                break;
            if (t.Kind is not (HoconTokenKind.OpenBrace or HoconTokenKind.OpenBracket))
                Advance();
            parts.Add(part);
        }
        while (parts.Count > 0 && parts[^1] is HoconScalarNode { IsWhitespace: true })
            parts.RemoveAt(parts.Count - 1);
        while (parts.Count > 0 && parts[0] is HoconScalarNode { IsWhitespace: true })
            parts.RemoveAt(0);
        return Combine(parts);
    }

    private static HoconNode? Combine(List<HoconNode> parts)
    {
        if (parts.Count <= 1)
            return parts.FirstOrDefault();
        var solid = parts.Where(p => p is not HoconScalarNode { IsWhitespace: true }).ToList();
        // Substitutions may resolve to anything; the parts written out must agree among themselves now.
        var written = solid.Where(p => p is not HoconSubstitutionNode).ToList();
        var clash = written.FirstOrDefault(p => Family(p) != Family(written[0]));
        if (clash is not null)
            throw new HoconException(clash.Position, $"cannot concatenate {Describe(written[0])} with {Describe(clash)} (only strings with strings, arrays with arrays, objects with objects)");
        var firstObject = written.FirstOrDefault(p => p is HoconObjectNode);
        var firstArray = written.FirstOrDefault(p => p is HoconArrayNode);
        if (solid.Any(p => p is HoconSubstitutionNode))
            return new HoconConcatenationNode(parts[0].Position, parts);
        if (firstObject is not null)
        {
            var merged = (HoconObjectNode)solid[0];
            foreach (var o in solid.Skip(1).Cast<HoconObjectNode>())
                merged.MergeFrom(o);
            return merged;
        }
        if (firstArray is not null)
            return new HoconArrayNode(solid[0].Position, solid.Cast<HoconArrayNode>().SelectMany(a => a.Items).ToList());
        var text = string.Concat(parts.Cast<HoconScalarNode>().Select(s => s.Value.Text));
        return new HoconScalarNode(HoconScalar.String(text, parts[0].Position));
    }

    private static int Family(HoconNode node) => node switch
    {
        HoconObjectNode => 0,
        HoconArrayNode => 1,
        _ => 2,
    };

    private static string Describe(HoconNode node) => node switch
    {
        HoconObjectNode => "an object",
        HoconArrayNode => "an array",
        HoconScalarNode s => s.Value.Describe(),
        _ => "a value",
    };

    private HoconArrayNode ParseArray()
    {
        var open = Advance();
        var items = new List<HoconNode>();
        while (true)
        {
            SkipSpace(newlines: true);
            var t = Peek;
            switch (t.Kind)
            {
                case HoconTokenKind.CloseBracket:
                    Advance();
                    return new HoconArrayNode(open.Position, items);
                case HoconTokenKind.End:
                    throw new HoconException(open.Position, "unterminated array: this '[' has no matching ']'");
                case HoconTokenKind.Comma:
                    throw new HoconException(t.Position, "unexpected ',' (a comma goes after an element, and only one)");
            }
            items.Add(ParseValue(fieldPath: null) ?? throw new HoconException(t.Position, $"expected an array element, got {t.Describe()}"));
            if (!SkipSeparator() && Peek.Kind is not (HoconTokenKind.CloseBracket or HoconTokenKind.End))
                throw new HoconException(Peek.Position, $"expected ',', a new line or ']' after an array element, got {Peek.Describe()}");
        }
    }
}
