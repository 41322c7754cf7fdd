namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// A piece of the parsed, not yet resolved document. Substitutions stay unresolved until the
/// whole document (with its includes) is parsed, because a substitution may look forward.
/// </summary>
internal abstract class HoconNode(HoconPosition position)
{
    public HoconPosition Position { get; } = position;
}

/// <summary>A string, number, boolean or null as written (already a resolved value).</summary>
internal sealed class HoconScalarNode(HoconScalar value, bool isWhitespace = false) : HoconNode(value.Position)
{
    public HoconScalar Value { get; } = value;

    /// <summary>Whitespace between the parts of a value concatenation: kept only between two simple values.</summary>
    public bool IsWhitespace { get; } = isWhitespace;
}

/// <summary>An array literal; its elements may hold substitutions.</summary>
internal sealed class HoconArrayNode(HoconPosition position, List<HoconNode> items) : HoconNode(position)
{
    public List<HoconNode> Items { get; } = items;
}

/// <summary><c>${path}</c> or <c>${?path}</c>.</summary>
internal sealed class HoconSubstitutionNode(HoconPosition position, IReadOnlyList<string> path, bool optional, IReadOnlyList<string> includePrefix)
    : HoconNode(position)
{
    /// <summary>The path as written (relative to the root of the file it is in).</summary>
    public IReadOnlyList<string> Path { get; } = path;

    public bool Optional { get; } = optional;

    /// <summary>
    /// Where the file holding this substitution was included (empty in the top file). The spec
    /// looks an included file's substitution up under this prefix first, then from the root.
    /// </summary>
    public IReadOnlyList<string> IncludePrefix { get; } = includePrefix;

    public string Display => $"${{{(Optional ? "?" : "")}{HoconPath.Render(Path)}}}";
}

/// <summary>
/// A value concatenation that needs resolving first: it holds a substitution, so whether it is a
/// string, an array or an object is known only once the substitution is.
/// </summary>
internal sealed class HoconConcatenationNode(HoconPosition position, List<HoconNode> parts) : HoconNode(position)
{
    public List<HoconNode> Parts { get; } = parts;
}

/// <summary>An already resolved value standing in a merge stack (a fallback configuration's values).</summary>
internal sealed class HoconResolvedNode(HoconValue value) : HoconNode(value.Position)
{
    public HoconValue Value { get; } = value;
}
