using System.Buffers.Binary;
using System.Text;

namespace FineTuneAgent.Bench.Tokenizer;

/// <summary>Reads the translated strings of a GNU gettext .mo catalog.</summary>
internal static class MoFile
{
    public static IEnumerable<string> Translations(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 28)
        {
            yield break;
        }
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var littleEndian = magic == 0x950412de;
        if (!littleEndian && magic != 0xde120495)
        {
            yield break;
        }
        uint Read(int offset) => littleEndian
            ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset))
            : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset));
        var count = (int)Read(8);
        var table = (int)Read(16);
        for (var i = 0; i < count; i++)
        {
            var length = (int)Read(table + i * 8);
            var offset = (int)Read(table + i * 8 + 4);
            if (length == 0 || offset + length > bytes.Length)
            {
                continue;
            }
            var text = Encoding.UTF8.GetString(bytes, offset, length);
            if (text.Contains("Content-Type:", StringComparison.Ordinal))
            {
                continue; // the catalog's header
            }
            foreach (var form in text.Split('\0'))
            {
                yield return form;
            }
        }
    }
}
