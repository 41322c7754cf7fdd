using System.Text;

namespace FineTuneAgent.Core.Config.Hocon;

/// <summary>
/// Include statements: <c>include "f"</c>, <c>include file("f")</c>, <c>include required("f")</c>,
/// <c>include required(file("f"))</c>. Files only (no URLs or classpath). A relative name is found
/// beside the including file, never in the working directory; a name without an extension loads
/// every one of f.json, f.conf and f.hocon that exists, in that order. A missing file is
/// silently skipped, as the spec says, unless it is wrapped in required(...).
/// </summary>
internal sealed partial class HoconParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of a configuration file; the spec requires UTF-8.</summary>
    public static string ReadFile(string path, HoconPosition? includedAt)
    {
        try
        {
            return File.ReadAllText(path, StrictUtf8);
        }
        catch (DecoderFallbackException)
        {
            throw new HoconException(includedAt ?? new HoconPosition(path, 1, 1), $"{path} is not valid UTF-8");
        }
        catch (Exception e) when (includedAt is not null && e is IOException or UnauthorizedAccessException)
        {
            throw new HoconException(includedAt, $"cannot read included file {path}: {e.Message}");
        }
    }

    private void ParseInclude(HoconObjectNode target, IReadOnlyList<string>? localPath)
    {
        var keyword = Advance();
        SkipSpace(newlines: true);
        var wrappers = new List<string>();
        while (Peek is { Kind: HoconTokenKind.UnquotedString } w && w.Text.EndsWith('('))
        {
            Advance();
            wrappers.AddRange(w.Text.Split('(', StringSplitOptions.RemoveEmptyEntries));
            if (w.Text.Count(c => c == '(') != w.Text.Split('(', StringSplitOptions.RemoveEmptyEntries).Length)
                throw new HoconException(w.Position, $"malformed include '{w.Text}'");
            SkipSpace(newlines: false);
        }
        if (wrappers.FirstOrDefault(n => n is "url" or "classpath") is { } unsupported)
            throw new HoconException(keyword.Position, $"include {unsupported}(...) is not supported; include a file: include \"f\", file(\"f\") or required(file(\"f\"))");
        var required = wrappers.Count > 0 && wrappers[0] == "required";
        var rest = required ? wrappers.Skip(1).ToList() : wrappers;
        if (rest.Count > 1 || (rest.Count == 1 && rest[0] != "file"))
            throw new HoconException(keyword.Position, $"unknown include form '{string.Join("(", wrappers)}(': use include \"f\", include file(\"f\"), include required(\"f\") or include required(file(\"f\"))");
        if (Peek.Kind != HoconTokenKind.QuotedString)
            throw new HoconException(Peek.Position, $"include must be followed by a quoted file name, got {Peek.Describe()}");
        var name = Advance();
        var closes = 0;
        while (closes < wrappers.Count)
        {
            SkipSpace(newlines: false);
            if (Peek is not { Kind: HoconTokenKind.UnquotedString } c || c.Text.Any(ch => ch != ')'))
                throw new HoconException(Peek.Position, $"expected ')' to close the include, got {Peek.Describe()}");
            closes += c.Text.Length;
            Advance();
        }
        if (closes != wrappers.Count)
            throw new HoconException(name.Position, "too many ')' after the include");
        if (localPath is null)
            throw new HoconException(keyword.Position, "include cannot be used inside an object in an array");
        Include(target, localPath, name, required);
    }

    private void Include(HoconObjectNode target, IReadOnlyList<string> localPath, HoconToken name, bool required)
    {
        if (name.Text.Contains("://", StringComparison.Ordinal))
            throw new HoconException(name.Position, $"cannot include \"{name.Text}\": URLs are not supported, only files");
        var named = Path.IsPathRooted(name.Text) ? name.Text : Path.Combine(Path.GetDirectoryName(_file) ?? "", name.Text);
        var files = File.Exists(named) ? [named]
            : Path.GetExtension(named).Length == 0 ? new[] { ".json", ".conf", ".hocon" }.Select(e => named + e).Where(File.Exists).ToList()
            : [];
        if (files.Count == 0)
        {
            if (required)
                throw new HoconException(name.Position, $"required include \"{name.Text}\" not found (looked for {Path.GetFullPath(named)})");
            return;
        }
        foreach (var file in files)
        {
            using var scope = _context.Enter(Path.GetFullPath(file), name.Position);
            var parser = new HoconParser(ReadFile(file, name.Position), file, [.. _includePrefix, .. localPath], _context);
            var included = parser.ParseRoot();
            target.MergeFrom(included);
        }
    }
}
