using System.Globalization;

namespace FineTuneAgent.Core;

/// <summary>
/// An exclusive lock on a file that lives as long as this process holds it: .NET on Linux takes FileShare.None
/// with flock, so the kernel drops it the moment the process dies, SIGKILL included, and a stale file never
/// blocks anyone. The holder's pid goes beside it (&lt;file&gt;.pid: the locked file itself cannot be opened by
/// others, since .NET's shared lock for reading conflicts), to name the holder when someone else asks.
/// </summary>
public sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock, or returns null with <paramref name="holder"/> naming who holds it ("pid 1234").</summary>
    public static FileLock? TryTake(string path, out string? holder)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            holder = Holder(path);
            return null;
        }
        File.WriteAllText(path + ".pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        holder = null;
        return new FileLock(stream);
    }

    /// <summary>Whether a live process holds the lock (taken and released at once to find out).</summary>
    public static bool IsHeld(string path)
    {
        if (!File.Exists(path))
            return false;
        using var taken = TryTake(path, out _);
        return taken is null;
    }

    private static string Holder(string path)
    {
        try
        {
            return File.ReadAllText(path + ".pid").Trim() is { Length: > 0 } pid ? $"pid {pid}" : "an unknown process";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "an unknown process";
        }
    }

    public void Dispose() => _stream.Dispose();
}
