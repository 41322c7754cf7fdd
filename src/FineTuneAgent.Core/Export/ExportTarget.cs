using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Export;

/// <summary>
/// Where an export goes: never over an existing artefact, and whole or not at all. A folder is
/// filled under a hidden temporary name beside it and renamed into place last (as checkpoints are),
/// so a failed export leaves nothing under the final name.
/// </summary>
public static class ExportTarget
{
    /// <summary>Fails when <paramref name="path"/> is an existing file or a non-empty folder.</summary>
    public static void EnsureFree(string path)
    {
        if (File.Exists(path))
            throw new ExportException($"{path} already exists; exports never overwrite: choose another --out or remove it");
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            throw new ExportException($"{path} already exists and is not empty; exports never overwrite: choose another --out or remove it");
    }

    /// <summary>Fills a new folder at <paramref name="path"/> through <paramref name="write"/> (given the temporary folder) and renames it into place.</summary>
    public static void WriteFolder(string path, Action<string> write)
    {
        EnsureFree(path);
        // An empty folder at the target (made by hand, or by a parent's mkdir) is replaced.
        CheckpointFolder.WriteAtomically(Path.GetFullPath(path), write);
    }
}
