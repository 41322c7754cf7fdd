namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Reads HOCON (Lightbend's Human-Optimized Config Object Notation, HOCON.md in lightbend/config)
/// into a resolved <see cref="HoconObject"/>: parse the file and everything it includes, then
/// resolve the substitutions over the whole document. Errors are <see cref="HoconException"/>s
/// that start with file:line:column.
/// </summary>
public static class HoconReader
{
    /// <summary>
    /// Parses and resolves <paramref name="text"/>. <paramref name="origin"/> names it in positions,
    /// and relative includes are found in its folder (the working folder for a bare name).
    /// </summary>
    public static HoconObject Parse(string text, string origin = "<string>", HoconOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= new HoconOptions();
        var context = new HoconParseContext();
        using var scope = context.Enter(Path.GetFullPath(origin), new HoconPosition(origin, 1, 1));
        var root = new HoconParser(text, origin, [], context).ParseRoot();
        return new HoconResolver(root, options.Fallback, options.EnvironmentVariable).Resolve();
    }

    /// <summary>Parses and resolves a UTF-8 file; a missing file is a FileNotFoundException.</summary>
    public static HoconObject ParseFile(string path, HoconOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"configuration file {path} not found", path);
        return Parse(HoconParser.ReadFile(path, includedAt: null), path, options);
    }
}
