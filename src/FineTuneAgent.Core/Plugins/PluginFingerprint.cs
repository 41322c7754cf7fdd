using System.Security.Cryptography;
using System.Text;

namespace FineTuneAgent.Core.Plugins;

/// <summary>
/// The identity of a plugin folder's contents: a SHA-256 over every file's relative path and
/// bytes. A rebuild that changes nothing (or a touch) keeps the fingerprint, so it reloads
/// nothing; any changed byte gives a new one.
/// </summary>
internal static class PluginFingerprint
{
    /// <summary>The folder's fingerprint; throws IOException when a file vanishes or cannot be read mid-build.</summary>
    public static string Of(string folder)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f))
            .Order(StringComparer.Ordinal);
        foreach (var relative in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(relative));
            hash.AppendData([0]);
            var bytes = File.ReadAllBytes(Path.Combine(folder, relative));
            hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
            hash.AppendData(bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
