using System.Text;
using static FineTuneAgent.Torch.Tests.SafetensorsTestFiles;

namespace FineTuneAgent.Torch.Tests;

/// <summary>Malformed files are refused at Open with a message naming the file, the tensor and the fault.</summary>
public sealed class SafetensorsValidationTests
{
    private const string F32x2 = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";

    // header JSON, data byte count, expected message fragment, tensor at fault
    public static TheoryData<string, int, string, string?> MalformedHeaders => new()
    {
        { "{\"a\":" + F32x2 + "}", 4, "truncated: header says 8 bytes of data, file has 4", null },
        { "{\"a\":" + F32x2 + "}", 12, "file has 4 bytes after the last tensor's data", null },
        { """{"a":{"dtype":"F32",""", 0, "header is not valid JSON", null },
        { """{} x""", 0, "header is not valid JSON", null },
        { """["a"]""", 0, "header must start with '{', found byte 0x5B", null },
        { """ {}""", 0, "header must start with '{'", null },
        { "{\"a\":" + F32x2 + ""","b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "data_offsets [4, 12] overlap tensor 'a', which ends at 8", "b" },
        { "{\"a\":" + F32x2 + ""","b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", 16, "leave a hole of 4 bytes: tensor 'a' ends at 8", "b" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "leave a hole of 4 bytes: the data buffer starts at 0", "a" },
        { """{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8, "data_offsets [8, 0] end before they begin", "a" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "hold 8 bytes, but F32 with shape [3] needs 12", "a" },
        { """{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}""", 2, "3 elements of F4 (4 bits) are not a whole number of bytes", "a" },
        { """{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", 0, "is too large to address", "a" },
        { "{\"a\":" + F32x2 + ",\"a\":" + F32x2 + "}", 8, "header has the key 'a' twice", null },
        { """{"__metadata__":{"k":"1","k":"2"}}""", 0, "__metadata__ has the key 'k' twice", null },
        { """{"__metadata__":{"n":1}}""", 0, "__metadata__ values must be strings, but 'n' is 1", null },
        { """{"__metadata__":{"n":{"x":"y"}}}""", 0, "__metadata__ values must be strings, but 'n' is an object", null },
        { """{"__metadata__":"pt"}""", 0, "__metadata__ must be an object of strings", null },
        { """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}""", 0, "shape entries must be non-negative integers, found -1", "a" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}""", 4, "data_offsets entries must be non-negative integers, found 4.0", "a" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,2,4]}}""", 4, "data_offsets must be [BEGIN, END], found 3 numbers", "a" },
        { """{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}""", 1, "unknown dtype 'Q7'", "a" },
        { """{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", 4, "unknown dtype 'f32'", "a" },
        { """{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}""", 4, "field 'dtype' appears twice", "a" },
        { """{"a":{"dtype":"F32","shape":[1]}}""", 4, "entry has no 'data_offsets'", "a" },
        { """{"a":[0,4]}""", 4, "entry must be an object with dtype, shape and data_offsets", "a" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Open_MalformedFile_ThrowsNamingFileTensorAndFault(string header, int dataBytes, string fault, string? tensor)
    {
        using var folder = new TempFolder();
        var path = folder.Write("model.safetensors", Build(header, new byte[dataBytes]));

        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(fault, e.Message);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null)
            Assert.Contains($"tensor '{tensor}'", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Open_FileShorterThanLengthPrefix_ThrowsNamingFile(int length)
    {
        using var folder = new TempFolder();
        var path = folder.Write("short.safetensors", new byte[length]);

        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: file is {length} bytes, too short to hold the 8-byte header length; it is empty or truncated", e.Message);
    }

    [Fact]
    public void Open_HeaderLengthPastEndOfFile_ThrowsNamingFileAndLengths()
    {
        using var folder = new TempFolder();
        var path = folder.Write("model.safetensors", Build("{}", [], headerLength: 1000));

        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: truncated: header length 1000 runs past the end of the file (10 bytes)", e.Message);
    }

    [Fact]
    public void Open_HeaderLengthOverLimit_ThrowsWithoutReadingFurther()
    {
        using var folder = new TempFolder();
        var path = folder.Write("model.safetensors", Build("{}", [], headerLength: 100_000_001));

        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));

        Assert.Contains("model.safetensors: header length 100000001 exceeds the 100,000,000-byte limit", e.Message);
    }

    [Fact]
    public void Open_HeaderNotUtf8_ThrowsNamingFile()
    {
        using var folder = new TempFolder();
        byte[] header = [.. Encoding.ASCII.GetBytes("{\""), 0xFF, .. Encoding.ASCII.GetBytes("\":1}")];
        var path = folder.Write("model.safetensors", Build(header, []));

        var e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: header is not valid UTF-8", e.Message);
    }

    [Fact]
    public void Load_DtypeNotSupportedHere_ThrowsNamingTensorWhileHeaderAndOtherTensorsLoad()
    {
        using var folder = new TempFolder();
        const string header = """{"fp8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[4,6]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        var path = folder.Write("model.safetensors", Build(header, [.. Le(2.5f), 0x38, 0x40]));
        var baseline = LiveCount.Settled();

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(SafetensorsDType.F8_E4M3, file.GetInfo("fp8").DType);
        Assert.Null(file.GetInfo("fp8").ScalarType);
        var e = Assert.Throws<SafetensorsException>(() => file.Load("fp8"));
        Assert.StartsWith($"{path}: tensor 'fp8': dtype F8_E4M3 cannot be loaded (supported: F64, I64, F32, ", e.Message);
        Assert.Throws<SafetensorsException>(() => file.LoadAll());
        Assert.Equal(baseline, LiveCount.Settled()); // LoadAll disposed what it had loaded before failing
        using var w = file.Load("w");
        Assert.Equal([2.5f], w.data<float>());
    }

    [Fact]
    public void GetInfo_UnknownName_ThrowsKeyNotFoundNamingFileAndTensor()
    {
        using var folder = new TempFolder();
        var path = folder.Write("model.safetensors", Build("{}      ", []));
        using var file = SafetensorsFile.Open(path);

        var e = Assert.Throws<KeyNotFoundException>(() => file.Load("lm_head.weight"));

        Assert.Equal($"{path}: no tensor named 'lm_head.weight'", e.Message);
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        using var folder = new TempFolder();
        var path = folder.File("absent.safetensors");

        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(path));

        Assert.Contains("absent.safetensors", e.Message);
    }
}
