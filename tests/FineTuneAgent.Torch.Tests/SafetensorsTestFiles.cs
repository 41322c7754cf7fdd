using System.Buffers.Binary;
using System.Text;

namespace FineTuneAgent.Torch.Tests;

/// <summary>Builds safetensors files byte by byte, independently of the code under test.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>u64 LE length, the header text as UTF-8, then the data; the length prefix can be forced.</summary>
    public static byte[] Build(string headerJson, byte[] data, ulong? headerLength = null) =>
        Build(Encoding.UTF8.GetBytes(headerJson), data, headerLength);

    public static byte[] Build(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static byte[] Le(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Le(params short[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Le(params long[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Le(params ushort[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();
}

/// <summary>A fresh folder under the temp path, deleted with everything in it on Dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fta-st-{Guid.NewGuid():N}");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        var path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public string[] FileNames() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
