using static FineTuneAgent.Torch.Tests.SafetensorsTestFiles;

namespace FineTuneAgent.Torch.Tests;

public sealed class SafetensorsRoundTripTests
{
    // Raw element bytes chosen so that any conversion or canonicalisation on the way shows:
    // NaNs with payloads and sign, signalling NaNs, negative zero, infinities, subnormals, extremes.
    public static TheoryData<SafetensorsDType, ScalarType, byte[], long[]> SpecialValues => new()
    {
        { SafetensorsDType.F64, ScalarType.Float64, Le(0x7FF8000000000001, unchecked((long)0xFFF0000000000001), unchecked((long)0x8000000000000000), 1, 0x7FF0000000000000, 0x3FF0000000000000), [3, 2] },
        { SafetensorsDType.F32, ScalarType.Float32, Le(BitConverter.Int32BitsToSingle(0x7FC00001), BitConverter.Int32BitsToSingle(unchecked((int)0xFF800001)), -0.0f, float.PositiveInfinity, float.Epsilon, 1.5f), [2, 3] },
        { SafetensorsDType.F16, ScalarType.Float16, Le((ushort)0x7E01, (ushort)0xFC01, (ushort)0x8000, (ushort)0x0001, (ushort)0x7C00, (ushort)0xFBFF), [3, 2] },
        { SafetensorsDType.BF16, ScalarType.BFloat16, Le((ushort)0x7FC1, (ushort)0xFF81, (ushort)0x8000, (ushort)0x0001, (ushort)0x7F80, (ushort)0xFF7F), [6] },
        { SafetensorsDType.I64, ScalarType.Int64, Le(long.MinValue, -1, long.MaxValue, 0), [2, 2] },
        { SafetensorsDType.I32, ScalarType.Int32, [0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [3] },
        { SafetensorsDType.I16, ScalarType.Int16, Le(short.MinValue, -1, short.MaxValue, 0), [4, 1] },
        { SafetensorsDType.I8, ScalarType.Int8, [0x80, 0x7F, 0xFF, 0x00], [2, 2] },
        { SafetensorsDType.U8, ScalarType.Byte, [0x00, 0xFF, 0x80], [1, 3] },
        { SafetensorsDType.BOOL, ScalarType.Bool, [1, 0, 1, 1], [4] },
    };

    [Theory]
    [MemberData(nameof(SpecialValues))]
    public void SaveThenLoad_EverySupportedDtype_BytesIdenticalBitForBit(SafetensorsDType expectedDType, ScalarType dtype, byte[] raw, long[] shape)
    {
        using var folder = new TempFolder();
        var path = folder.File("t.safetensors");
        using var original = frombuffer(raw, dtype, shape);
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["t"] = original });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(expectedDType, file.GetInfo("t").DType);
        using var loaded = file.Load("t");
        Assert.Equal(dtype, loaded.dtype);
        Assert.Equal(shape, loaded.shape);
        Assert.Equal(raw, loaded.bytes);
        // And the file holds the very same bytes at the end, where the only tensor's data goes.
        Assert.Equal(raw, File.ReadAllBytes(path)[^raw.Length..]);
    }

    [Fact]
    public void SaveThenLoad_ScalarAndZeroSizeTensors_KeepShapesAndTakeNoBytesWhenEmpty()
    {
        using var folder = new TempFolder();
        var path = folder.File("shapes.safetensors");
        using var scalar = frombuffer(Le(-0.0f), ScalarType.Float32, []);
        using var empty3 = zeros([2, 0, 3], ScalarType.BFloat16);
        using var empty1 = zeros([0], ScalarType.Int64);
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["scalar"] = scalar, ["empty3"] = empty3, ["empty1"] = empty1 });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(0, file.GetInfo("empty1").ByteSize);
        Assert.Equal(0, file.GetInfo("empty3").ByteSize);
        Assert.Equal(4, file.GetInfo("scalar").ByteSize);
        using var s = file.Load("scalar");
        using var e3 = file.Load("empty3");
        using var e1 = file.Load("empty1");
        Assert.Empty(s.shape);
        Assert.Equal(Le(-0.0f), s.bytes);
        Assert.Equal([2L, 0, 3], e3.shape);
        Assert.Equal(ScalarType.BFloat16, e3.dtype);
        Assert.Equal([0L], e1.shape);
        Assert.Empty(e1.bytes);
    }

    [Fact]
    public void Save_NonContiguousTensor_WritesRowMajorOrderOfTheView()
    {
        using var folder = new TempFolder();
        var path = folder.File("t.safetensors");
        using var range = arange(6, ScalarType.Int64);
        using var matrix = range.reshape(2, 3);
        using var transposed = matrix.t();
        Assert.False(transposed.is_contiguous());
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["t"] = transposed });

        using var file = SafetensorsFile.Open(path);
        using var loaded = file.Load("t");
        Assert.Equal([3L, 2], loaded.shape);
        Assert.Equal([0L, 3, 1, 4, 2, 5], loaded.data<long>());
    }

    [Fact]
    public void SaveThenLoad_ChunkedWriteAndDirectCopyRead_BytesIdentical()
    {
        // Exercise the paths taken by tensors over 16 MiB (written in chunks) and over 2 GiB
        // (copied into tensor storage rather than through a span) on small tensors.
        var (chunk, span) = (TensorBytes.WriteChunkBytes, TensorBytes.MaxSpanCopyBytes);
        TensorBytes.WriteChunkBytes = 8;
        TensorBytes.MaxSpanCopyBytes = 0;
        try
        {
            using var folder = new TempFolder();
            var path = folder.File("t.safetensors");
            using var a = randn(5, 7);
            using var b = randint(-1000, 1000, [3, 3]);
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });
            using var file = SafetensorsFile.Open(path);
            using var a2 = file.Load("a");
            using var b2 = file.Load("b");
            Assert.Equal(a.bytes, a2.bytes);
            Assert.Equal(b.bytes, b2.bytes);
        }
        finally
        {
            (TensorBytes.WriteChunkBytes, TensorBytes.MaxSpanCopyBytes) = (chunk, span);
        }
    }

    [Fact]
    public void SaveThenOpen_Metadata_ReadBackUnchanged()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ü \"quoted\"\nline" };
        using var t = ones(2);
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t }, metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(0, file.HeaderLength % 8);
    }

    [Fact]
    public void Save_OverExistingFileWhenSavingFails_KeepsOldFileAndLeavesNoTempFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("model.safetensors");
        using var good = ones(3);
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = good });
        var before = File.ReadAllBytes(path);
        var disposed = ones(3);
        disposed.Dispose();

        Assert.ThrowsAny<Exception>(() => Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = good, ["x"] = disposed }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], folder.FileNames());
    }

    [Fact]
    public void AtomicWrite_FailureHalfwayThroughWriting_KeepsOldFileAndLeavesNoTempFile()
    {
        using var folder = new TempFolder();
        var path = folder.Write("model.safetensors", [1, 2, 3]);

        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[4096]);
            throw new IOException("disk full");
        }));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], folder.FileNames());
    }
}
