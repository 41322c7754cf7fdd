using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Core.Quantization;

/// <summary>
/// The SHA-256 of a checkpoint folder (config.json and every *.safetensors file, by name and
/// content). Hashing gigabytes takes a while, so digests are remembered in a sidecar keyed by
/// each file's path, size and modification time; a changed file is hashed again.
/// </summary>
public static class CheckpointDigest
{
    public static string Compute(string modelDir, string? memoFile = null)
    {
        var files = Directory.GetFiles(modelDir, "*.safetensors").Append(Path.Combine(modelDir, "config.json"))
            .Where(File.Exists).Order(StringComparer.Ordinal).ToList();
        if (files.Count < 2)
            throw new FileNotFoundException($"{modelDir}: no config.json and safetensors weights to quantize");
        var memo = memoFile is not null && File.Exists(memoFile) ? Read(memoFile) : new Dictionary<string, string>();
        using var all = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var changed = false;
        foreach (var file in files)
        {
            var info = new FileInfo(file);
            var stamp = $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
            if (!memo.TryGetValue(stamp, out var digest))
            {
                using var stream = File.OpenRead(file);
                digest = Convert.ToHexStringLower(SHA256.HashData(stream));
                memo[stamp] = digest;
                changed = true;
            }
            all.AppendData(Encoding.UTF8.GetBytes($"{Path.GetFileName(file)}:{digest}\n"));
        }
        if (changed && memoFile is not null)
            Torch.AtomicFile.Write(memoFile, s => JsonSerializer.Serialize(s, memo));
        return Convert.ToHexStringLower(all.GetHashAndReset());
    }

    private static Dictionary<string, string> Read(string memoFile)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(memoFile)) ?? new();
        }
        catch (JsonException)
        {
            return new(); // a damaged memo only costs re-hashing
        }
    }
}
