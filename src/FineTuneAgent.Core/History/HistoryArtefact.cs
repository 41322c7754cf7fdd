using System.Security.Cryptography;
using System.Text;

namespace FineTuneAgent.Core.History;

/// <summary>
/// One row of <c>artefacts</c>: something a run left on disk (a checkpoint, the adapter, an export, eval.json),
/// with its size and, when it was worth reading every byte, its SHA-256.
/// </summary>
public sealed record HistoryArtefact(string RunId, string Kind, string Path, string? Sha256, long? Bytes)
{
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Describes <paramref name="path"/> as it is now: its bytes (a folder: all its files), and with
    /// <paramref name="hash"/> its SHA-256 (a folder: of "relative path, file SHA-256" lines in ordinal order,
    /// so the same files give the same hash wherever the folder is). A missing path has neither.
    /// </summary>
    public static HistoryArtefact Describe(string runId, string kind, string path, bool hash)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return new HistoryArtefact(runId, kind, full, hash ? FileHash(full) : null, new FileInfo(full).Length);
        }
        if (!Directory.Exists(full))
            return new HistoryArtefact(runId, kind, full, null, null);
        var files = Directory.GetFiles(full, "*", SearchOption.AllDirectories)
            .Select(f => (Relative: System.IO.Path.GetRelativePath(full, f).Replace('\\', '/'), Full: f))
            .OrderBy(f => f.Relative, StringComparer.Ordinal).ToList();
        var bytes = files.Sum(f => new FileInfo(f.Full).Length);
        if (!hash)
            return new HistoryArtefact(runId, kind, full, null, bytes);
        using var manifest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (relative, file) in files)
            manifest.AppendData(Encoding.UTF8.GetBytes($"{relative}\t{FileHash(file)}\n"));
        return new HistoryArtefact(runId, kind, full, Convert.ToHexStringLower(manifest.GetHashAndReset()), bytes);
    }

    private static string FileHash(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
