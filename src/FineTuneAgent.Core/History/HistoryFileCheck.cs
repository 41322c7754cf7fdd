using System.Buffers.Binary;
using System.Text;

namespace FineTuneAgent.Core.History;

/// <summary>
/// Looks at a history file's bytes before SQLite opens it for writing: SQLite would happily set WAL mode on
/// (that is, write into) a file cut short, so damage that the 100-byte header shows is caught here, read-only.
/// See https://www.sqlite.org/fileformat.html#the_database_header for the offsets.
/// </summary>
internal static class HistoryFileCheck
{
    private const int HeaderLength = 100;
    private static readonly byte[] s_magic = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>Throws <see cref="HistoryDatabaseException"/> when <paramref name="path"/> cannot be an intact SQLite database.</summary>
    public static void ThrowIfDamaged(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
            return; // SQLite creates the database in an empty file
        var header = new byte[HeaderLength];
        int read;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            read = stream.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (read < HeaderLength || !header.AsSpan(0, s_magic.Length).SequenceEqual(s_magic))
            throw Damaged(path, $"not an SQLite database ({length} bytes{(read < HeaderLength ? ", shorter than SQLite's 100-byte header" : ", no SQLite header")})");

        var rawPageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
        long pageSize = rawPageSize == 1 ? 65536 : rawPageSize;
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
            throw Damaged(path, $"the header's page size {rawPageSize} is not a power of two from 512 to 65536");

        // The page count at offset 28 is valid only when the change counter (24) equals version-valid-for (92).
        var pages = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        var headerIsCurrent = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24)) == BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(92));
        // A checkpoint killed half-way leaves page 1 ahead of the file's end; SQLite completes it from the
        // write-ahead log, so only a file with no log to finish it from counts as cut short.
        var wal = new FileInfo(path + "-wal");
        if (headerIsCurrent && pages > 0 && length < pages * pageSize && !(wal.Exists && wal.Length > 0))
            throw Damaged(path, $"truncated: {length} bytes where the header says {pages} pages of {pageSize} bytes ({pages * pageSize} bytes)");
    }

    private static HistoryDatabaseException Damaged(string path, string what) =>
        new(path, HistoryProblem.Damaged, $"the history database is damaged: {what}; it was left untouched: move it away to start a new history, or restore a backup");
}
