using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Reads a dataset file into rows with their line numbers. The layout is told by content, not by
/// extension: a file whose first non-blank character is <c>[</c> is one JSON array (each element's
/// line is where it starts), anything else is JSON Lines (one value per line; blank lines skipped).
/// </summary>
/// <remarks>
/// A malformed JSON Lines row goes to <c>onBadRow</c>, which throws or records it, and reading goes on
/// with the next line. A syntax error inside a JSON array cannot be stepped over, so it always throws.
/// </remarks>
public static class DatasetFileReader
{
    private static readonly JsonReaderOptions s_options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static IReadOnlyList<RawRow> Read(string path, Action<DatasetException> onBadRow)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(onBadRow);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"cannot read the dataset file: {e.Message}", new SourceLocation(path), inner: e);
        }
        return Read(path, bytes, onBadRow);
    }

    public static IReadOnlyList<RawRow> Read(string path, ReadOnlySpan<byte> bytes, Action<DatasetException> onBadRow)
    {
        var start = bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var first = start;
        while (first < bytes.Length && IsSpace(bytes[first]))
            first++;
        if (first == bytes.Length)
            throw new DatasetException("the file is empty (expected a JSON array of rows or JSON Lines)", new SourceLocation(path));
        var rows = bytes[first] == (byte)'[' ? ReadArray(path, bytes, start) : ReadLines(path, bytes, start, onBadRow);
        if (rows.Count == 0)
            throw new DatasetException("the file holds no rows", new SourceLocation(path, 1));
        return rows;
    }

    private static List<RawRow> ReadArray(string path, ReadOnlySpan<byte> bytes, int start)
    {
        var lines = new LineMap(bytes);
        var rows = new List<RawRow>();
        var reader = new Utf8JsonReader(bytes[start..], s_options);
        try
        {
            reader.Read(); // [
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var at = new SourceLocation(path, lines.LineOf(start + reader.TokenStartIndex), rows.Count);
                rows.Add(new RawRow(JsonElement.ParseValue(ref reader), at));
            }
            if (reader.TokenType != JsonTokenType.EndArray)
                throw new DatasetException("the JSON array is not closed (is the file truncated?)", new SourceLocation(path, lines.LineOf(bytes.Length)));
            if (reader.Read())
                throw new DatasetException("unexpected content after the JSON array", new SourceLocation(path, lines.LineOf(start + reader.TokenStartIndex)));
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            throw new DatasetException($"malformed JSON: {Plain(e)}", new SourceLocation(path, line, rows.Count), column: column, inner: e);
        }
        return rows;
    }

    private static List<RawRow> ReadLines(string path, ReadOnlySpan<byte> bytes, int start, Action<DatasetException> onBadRow)
    {
        var rows = new List<RawRow>();
        var lineNumber = 0;
        var pos = start;
        var firstRowFailed = false;
        while (pos < bytes.Length)
        {
            lineNumber++;
            var end = bytes[pos..].IndexOf((byte)'\n');
            var line = end < 0 ? bytes[pos..] : bytes.Slice(pos, end);
            pos = end < 0 ? bytes.Length : pos + end + 1;
            if (line.Trim(" \t\r"u8).IsEmpty)
                continue;
            var at = new SourceLocation(path, lineNumber);
            try
            {
                using var doc = JsonDocument.Parse(line.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                rows.Add(new RawRow(doc.RootElement.Clone(), at));
            }
            catch (JsonException e)
            {
                if (rows.Count == 0 && !firstRowFailed && WholeFileIsOneObject(bytes[start..]))
                    throw new DatasetException("the file holds one JSON object; expected a JSON array of rows or JSON Lines (one row per line)", new SourceLocation(path, 1));
                firstRowFailed = true;
                onBadRow(new DatasetException($"malformed JSON line: {Plain(e)}", at, column: (int)(e.BytePositionInLine ?? 0) + 1, inner: e));
            }
        }
        return rows;
    }

    private static bool WholeFileIsOneObject(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, s_options);
            using var doc = JsonDocument.ParseValue(ref reader);
            return doc.RootElement.ValueKind == JsonValueKind.Object && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>System.Text.Json's message without its own "LineNumber: … | BytePositionInLine: …" suffix.</summary>
    private static string Plain(JsonException e)
    {
        var m = e.Message;
        var cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? m[..cut] : m).TrimEnd(' ', '.', '|') ;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
