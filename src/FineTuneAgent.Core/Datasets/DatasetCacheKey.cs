using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// SHA-256 over everything a prepared dataset depends on: the cache format version, each source's file
/// bytes, description and ratio, the tokenizer files' bytes, the chat format's name, and every option
/// of the request except the cache folder. Paths are not hashed, so moving the data keeps the cache.
/// </summary>
public static class DatasetCacheKey
{
    public static byte[] Compute(DatasetRequest request, string chatFormat, IReadOnlyList<string> tokenizerFiles)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(tokenizerFiles);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
        void FileBytes(string path)
        {
            using var stream = File.OpenRead(path);
            Text(Convert.ToHexString(SHA256.HashData(stream)));
        }

        Text($"fta-dataset v{DatasetCache.Version}");
        foreach (var source in request.Sources)
        {
            var d = source.Description;
            Text(DatasetFormats.Name(d.Format));
            Text(JsonSerializer.Serialize(d.Columns));
            Text(JsonSerializer.Serialize(d.Tags));
            Text(source.Ratio?.ToString("R", CultureInfo.InvariantCulture) ?? "all");
            FileBytes(d.FilePath);
        }
        Text("tokenizer");
        foreach (var file in tokenizerFiles)
            FileBytes(file);
        Text(chatFormat);
        Text(JsonSerializer.Serialize(request with { Sources = [], CacheDirectory = null }));
        return hash.GetHashAndReset();
    }
}
