using System.Text.Json;

namespace FineTuneAgent.Modeling.Tokenization;

/// <summary>Opens a JSON file, turning I/O and syntax errors into <see cref="TokenizerLoadException"/>.</summary>
internal static class JsonFile
{
    public static JsonDocument Parse(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerLoadException(TokenizerLoadError.FileNotFound, path, null, "file not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerLoadException(TokenizerLoadError.FileNotFound, path, null, $"cannot read the file: {e.Message}", e);
        }
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            throw new TokenizerLoadException(TokenizerLoadError.MalformedJson, path, null, $"malformed JSON{where}", e);
        }
    }
}
