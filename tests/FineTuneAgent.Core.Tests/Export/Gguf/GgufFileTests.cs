using System.Buffers.Binary;
using System.Text;
using FineTuneAgent.Core.Export.Gguf;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>The GGUF container: exact bytes of a small file against the spec's layout, round trips of every value type, and rejection of broken files.</summary>
public sealed class GgufFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fta-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(GgufWriter w, Func<GgufTensorInfo, ReadOnlyMemory<byte>> data, string name = "t.gguf")
    {
        var path = Path.Combine(_dir, name);
        using (var s = File.Create(path))
            w.WriteTo(s, data);
        return path;
    }

    [Fact]
    public void Writer_SmallFile_HasTheBytesTheSpecLaysOut()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.String("llama"));
        w.Add("n", GgufValue.UInt32(7));
        w.AddTensor("a", [3], GgmlType.F32);
        w.AddTensor("b", [2, 1], GgmlType.F16);
        var path = Write(w, t => t.Name == "a" ? new byte[12] { 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0 } : new byte[4] { 9, 9, 9, 9 });

        // Built by hand from ggml docs/gguf.md: header, KVs, tensor infos, zero padding to 32, data.
        var e = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); e.AddRange(b); }
        void U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); e.AddRange(b); }
        void Str(string s) { U64((ulong)Encoding.UTF8.GetByteCount(s)); e.AddRange(Encoding.UTF8.GetBytes(s)); }
        e.AddRange("GGUF"u8.ToArray()); U32(3); U64(2); U64(2);
        Str("general.architecture"); U32(8); Str("llama");
        Str("n"); U32(4); U32(7);
        Str("a"); U32(1); U64(3); U32(0); U64(0);
        Str("b"); U32(2); U64(2); U64(1); U32(1); U64(32);       // 12 data bytes of "a" padded to 32
        while (e.Count % 32 != 0) e.Add(0);
        e.AddRange(new byte[] { 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0 });
        while (e.Count % 32 != 0) e.Add(0);
        e.AddRange(new byte[] { 9, 9, 9, 9 });
        while (e.Count % 32 != 0) e.Add(0);
        Assert.Equal(e.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void ReadBack_EveryValueTypeNestedArraysAndCustomAlignment_RoundTrip()
    {
        var w = new GgufWriter(alignment: 64);
        w.Add("u8", GgufValue.UInt8(200));
        w.Add("i8", GgufValue.Int8(-100));
        w.Add("u16", GgufValue.UInt16(60000));
        w.Add("i16", GgufValue.Int16(-30000));
        w.Add("u32", GgufValue.UInt32(4000000000));
        w.Add("i32", GgufValue.Int32(-2000000000));
        w.Add("f32", GgufValue.Float32(1.5f));
        w.Add("bool", GgufValue.Bool(true));
        w.Add("str", GgufValue.String("héllo ✓"));
        w.Add("u64", GgufValue.UInt64(ulong.MaxValue));
        w.Add("i64", GgufValue.Int64(long.MinValue));
        w.Add("f64", GgufValue.Float64(Math.PI));
        w.Add("strings", GgufValue.Strings(["a b", "", "Ġx"]));
        w.Add("nested", GgufValue.Array(GgufValueType.Array, new List<object> { GgufValue.Int32s([1, 2]), GgufValue.Int32s([3]) }));
        w.AddTensor("w", [32, 2], GgmlType.Q8_0);
        var data = GgmlQuantizer.Encode(Enumerable.Range(0, 64).Select(i => (float)i).ToArray(), 32, GgmlType.Q8_0);
        var path = Write(w, _ => data);

        var f = GgufFile.Read(path);
        Assert.Equal(64u, f.Alignment);
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal(200, f["u8"].AsInteger());
        Assert.Equal(-100, f["i8"].AsInteger());
        Assert.Equal(60000, f["u16"].AsInteger());
        Assert.Equal(-30000, f["i16"].AsInteger());
        Assert.Equal(4000000000, f["u32"].AsInteger());
        Assert.Equal(-2000000000, f["i32"].AsInteger());
        Assert.Equal(1.5, f["f32"].AsFloat());
        Assert.True(f["bool"].AsBool());
        Assert.Equal("héllo ✓", f["str"].AsString());
        Assert.Equal(ulong.MaxValue, (ulong)f["u64"].Value);
        Assert.Equal(long.MinValue, f["i64"].AsInteger());
        Assert.Equal(Math.PI, f["f64"].AsFloat());
        Assert.Equal(["a b", "", "Ġx"], f["strings"].AsArray().Cast<string>());
        var nested = f["nested"].AsArray().Cast<GgufValue>().Select(v => v.AsArray().Cast<int>().ToArray()).ToArray();
        Assert.Equal([[1, 2], [3]], nested);
        Assert.Equal(GgmlType.Q8_0, f.Tensor("w").Type);
        Assert.Equal([2L, 32L], f.Tensor("w").TorchShape);
        Assert.Equal(data, f.ReadTensorBytes("w"));
    }

    private string ValidFile()
    {
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.String("qwen3"));
        w.Add("tokens", GgufValue.Strings(["x", "y"]));
        w.AddTensor("a", [32], GgmlType.F32);
        w.AddTensor("b", [32, 2], GgmlType.F16);
        return Write(w, t => new byte[t.ByteSize], "valid.gguf");
    }

    [Fact]
    public void Read_TruncatedAnywhere_IsRejectedAsTruncated()
    {
        var bytes = File.ReadAllBytes(ValidFile());
        foreach (var length in new[] { 0, 3, 10, 30, 60, 90, 150, bytes.Length - 200, bytes.Length - 1 })
        {
            var path = Path.Combine(_dir, $"cut{length}.gguf");
            File.WriteAllBytes(path, bytes[..length]);
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("byte", e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("past the end"), $"cut at {length}: {e.Message}");
        }
    }

    [Fact]
    public void Read_CorruptFields_NameTheField()
    {
        var good = File.ReadAllBytes(ValidFile());
        void Expect(Action<byte[]> corrupt, string field)
        {
            var bytes = (byte[])good.Clone();
            corrupt(bytes);
            var path = Path.Combine(_dir, "bad.gguf");
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));
            Assert.Contains(field, e.Message);
        }
        Expect(b => b[0] = (byte)'X', "magic");
        Expect(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 9), "version");
        Expect(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 1UL << 40), "metadata_kv_count");
        // The first value type sits after the key: 24 bytes of header, 8 of length, "general.architecture".
        Expect(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24 + 8 + 20), 77), "value_type");
        // Tensor "b"'s type and offset are the last 12 header bytes before the data's padding.
        var infoEnd = HeaderEnd(good);
        Expect(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(infoEnd - 12), 5), "tensor 'b' type");
        Expect(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(infoEnd - 8), 33), "tensor 'b' offset");
        Expect(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(infoEnd - 8), 0), "overlaps");
    }

    // The end of the tensor infos: the data section starts at the next multiple of 32.
    private static int HeaderEnd(byte[] file)
    {
        var s = Encoding.Latin1.GetString(file);
        var b = s.LastIndexOf("\u0001\0\0\0\0\0\0\0b", StringComparison.Ordinal);   // name length 1, "b"
        return b + 9 + 4 + 16 + 4 + 8;
    }

    [Fact]
    public void Writer_BadDeclarations_AreRejected()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('x', 64), [32], GgmlType.F32));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", [33, 2], GgmlType.Q4_0));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", [1, 1, 1, 1, 1], GgmlType.F32));
        w.Add("k", GgufValue.Bool(false));
        Assert.Throws<ArgumentException>(() => w.Add("k", GgufValue.Bool(true)));
        w.AddTensor("t", [4], GgmlType.F32);
        var e = Assert.Throws<InvalidOperationException>(() => Write(w, _ => new byte[3], "short.gguf"));
        Assert.Contains("needs 16 bytes, got 3", e.Message);
    }
}
