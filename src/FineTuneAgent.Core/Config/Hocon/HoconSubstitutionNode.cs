namespace FineTuneAgent.Core.Config.Hocon;

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
