namespace FineTuneAgent.Torch;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a
/// half-written one: the data goes to a temporary file in the same folder (so the rename
/// cannot cross file systems), is flushed to disk, and is then renamed over the target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(stream);
                // Without this a crash soon after the rename can leave the new name on an empty file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The original failure matters more than a stray temp file.
            }
            throw;
        }
    }
}
