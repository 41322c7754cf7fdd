using System.Text;
using static FineTuneAgent.Torch.Tests.SafetensorsTestFiles;

namespace FineTuneAgent.Torch.Tests;

/// <summary>The byte layout, checked against files built by hand and against the reference writer's own test vectors.</summary>
public sealed class SafetensorsLayoutTests
{
    [Fact]
    public void Open_HandBuiltFile_ReadsEntriesMetadataAndValues()
    {
        // Listed out of data order, an unknown field, N not a multiple of 8: all legal.
        const string header = """{"b":{"dtype":"I16","shape":[3],"data_offsets":[8,14],"extra":[1,{"x":2}]},"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}""";
        Assert.NotEqual(0, Encoding.UTF8.GetByteCount(header) % 8);
        using var folder = new TempFolder();
        var path = folder.Write("hand.safetensors", Build(header, [.. Le(1.5f, -2f), .. Le(1, -2, 300)]));

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "b"], file.Names);
        Assert.Equal(new Dictionary<string, string> { ["format"] = "pt" }, file.Metadata);
        var b = file.GetInfo("b");
        Assert.Equal((SafetensorsDType.I16, 8L, 14L), (b.DType, b.DataBegin, b.DataEnd));
        Assert.Equal([3L], b.Shape);
        using var a = file.Load("a");
        using var bt = file.Load("b");
        Assert.Equal([2L, 1], a.shape);
        Assert.Equal([1.5f, -2f], a.data<float>());
        Assert.Equal([(short)1, -2, 300], bt.data<short>());
    }

    [Fact]
    public void Save_MixedDtypes_OrdersByAlignmentThenNameAndPadsHeaderWithSpaces()
    {
        using var folder = new TempFolder();
        var path = folder.File("mixed.safetensors");
        using var zBool = frombuffer([1], ScalarType.Bool, []);
        using var aU8 = frombuffer([1, 2], ScalarType.Byte, [2]);
        using var bF32 = frombuffer(Le(1f), ScalarType.Float32, [1]);
        using var cF16 = frombuffer(Le((ushort)0x3C00), ScalarType.Float16, [1]);
        using var mI64 = frombuffer(Le(7L), ScalarType.Int64, [1]);
        using var aBf16 = frombuffer(Le((ushort)0x3F80), ScalarType.BFloat16, [1]);
        using var aF32 = frombuffer(Le(2f, 3f), ScalarType.Float32, [2]);
        var tensors = new Dictionary<string, Tensor>
        {
            ["z_bool"] = zBool, ["a_u8"] = aU8, ["b_f32"] = bF32, ["c_f16"] = cF16, ["m_i64"] = mI64, ["a_bf16"] = aBf16, ["a_f32"] = aF32,
        };

        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var json = (
            "{'__metadata__':{'format':'pt'}," +
            "'m_i64':{'dtype':'I64','shape':[1],'data_offsets':[0,8]}," +
            "'a_f32':{'dtype':'F32','shape':[2],'data_offsets':[8,16]}," +
            "'b_f32':{'dtype':'F32','shape':[1],'data_offsets':[16,20]}," +
            "'a_bf16':{'dtype':'BF16','shape':[1],'data_offsets':[20,22]}," +
            "'c_f16':{'dtype':'F16','shape':[1],'data_offsets':[22,24]}," +
            "'a_u8':{'dtype':'U8','shape':[2],'data_offsets':[24,26]}," +
            "'z_bool':{'dtype':'BOOL','shape':[],'data_offsets':[26,27]}}").Replace('\'', '"');
        Assert.Equal(443, json.Length); // so 5 spaces pad it to 448
        byte[] data = [.. Le(7L), .. Le(2f, 3f, 1f), 0x80, 0x3F, 0x00, 0x3C, 1, 2, 1];
        Assert.Equal(Build(json + "     ", data), File.ReadAllBytes(path));
    }

    [Fact]
    public void Save_NamesNeedingEscapesAndAstralCharacters_WrittenAsSerdeJsonAndSortedByCodePoint()
    {
        using var folder = new TempFolder();
        var path = folder.File("names.safetensors");
        using var t = frombuffer([1], ScalarType.Byte, []);
        // Ordinal UTF-16 order puts the emoji (surrogates D83D...) before U+FFFD; code point order does not.
        var tensors = new Dictionary<string, Tensor> { ["\U0001F600"] = t, ["\uFFFD"] = t, ["q\"\\\n\u0001/ü"] = t };

        Safetensors.Save(path, tensors);

        const string json =
            "{\"q\\\"\\\\\\n\\u0001/ü\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}," +
            "\"\uFFFD\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[1,2]}," +
            "\"\U0001F600\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[2,3]}}";
        var header = Encoding.UTF8.GetBytes(json);
        var padded = header.Concat(Enumerable.Repeat((byte)' ', (8 - header.Length % 8) % 8)).ToArray();
        Assert.Equal(Build(padded, [1, 1, 1]), File.ReadAllBytes(path));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["q\"\\\n\u0001/ü", "\uFFFD", "\U0001F600"], file.Names);
    }

    // Expected bytes copied from the test suite of the Rust reference (safetensors/src/tensor.rs:
    // test_serialization, test_serialization_forced_alignement, test_empty).
    public static TheoryData<string, long[], byte[]> RustVectors => new()
    {
        { "attn.0", [1, 2, 3], [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64] },
        { "attn0", [1, 1, 2, 3], [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64] },
    };

    [Theory]
    [MemberData(nameof(RustVectors))]
    public void Save_OneF32Tensor_MatchesRustReferenceBytes(string name, long[] shape, byte[] expected)
    {
        using var folder = new TempFolder();
        var path = folder.File("ref.safetensors");
        using var t = frombuffer(Le(0f, 1f, 2f, 3f, 4f, 5f), ScalarType.Float32, shape);

        Safetensors.Save(path, new Dictionary<string, Tensor> { [name] = t });

        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void Save_NoTensors_MatchesRustReferenceBytesWithAndWithoutMetadata()
    {
        using var folder = new TempFolder();
        var bare = folder.File("bare.safetensors");
        var withMetadata = folder.File("meta.safetensors");

        Safetensors.Save(bare, new Dictionary<string, Tensor>());
        Safetensors.Save(withMetadata, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" });

        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32], File.ReadAllBytes(bare));
        Assert.Equal(
            [
                40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32,
            ],
            File.ReadAllBytes(withMetadata));
        using var file = SafetensorsFile.Open(withMetadata);
        Assert.Empty(file.Names);
        Assert.Equal("pt", file.Metadata["framework"]);
    }
}
