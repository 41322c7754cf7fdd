using System.Globalization;
using System.Text.RegularExpressions;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// <c>&lt;out&gt;/checkpoint-&lt;step&gt;/</c> folders, written whole or not at all: everything goes into a hidden
/// temporary folder beside it, which is renamed into place last (one rename(2), atomic on a local file
/// system), so a process killed mid-write leaves only a temporary folder that nothing picks up and the
/// next save removes. <see cref="TrainerState.FileName"/> is written last inside it as well.
/// </summary>
public static partial class CheckpointFolder
{
    public const string Prefix = "checkpoint-";
    private const string TempPrefix = ".tmp-";

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex NameRegex();

    public static string PathFor(string outputDir, int step) => Path.Combine(outputDir, Prefix + step.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Writes a folder atomically: <paramref name="write"/> fills a temporary folder, <paramref name="beforeCommit"/>
    /// (a test hook) runs before the rename; an existing folder of the same name is replaced only after
    /// the new one is complete.
    /// </summary>
    public static string WriteAtomically(string finalPath, Action<string> write, Action<string>? beforeCommit = null)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(finalPath))!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(finalPath);
        foreach (var stale in Directory.EnumerateDirectories(parent, TempPrefix + name + ".*"))
            Directory.Delete(stale, recursive: true);
        var temp = Path.Combine(parent, $"{TempPrefix}{name}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            beforeCommit?.Invoke(temp);
            if (Directory.Exists(finalPath))
            {
                var old = temp + ".old";
                Directory.Move(finalPath, old);
                Directory.Move(temp, finalPath);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, finalPath);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return finalPath;
    }

    /// <summary>The complete checkpoints under an output folder, by step.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outputDir)
    {
        if (!Directory.Exists(outputDir))
            return [];
        var result = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories(outputDir))
        {
            var m = NameRegex().Match(Path.GetFileName(dir));
            if (m.Success && int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var step) && File.Exists(Path.Combine(dir, TrainerState.FileName)))
                result.Add((step, dir));
        }
        return result.OrderBy(c => c.Item1).ToList();
    }

    /// <summary>The last complete checkpoint, or null.</summary>
    public static string? Latest(string outputDir) => List(outputDir) is { Count: > 0 } all ? all[^1].Path : null;

    /// <summary>Whether a folder is a complete checkpoint.</summary>
    public static bool IsCheckpoint(string dir) => File.Exists(Path.Combine(dir, TrainerState.FileName));

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
