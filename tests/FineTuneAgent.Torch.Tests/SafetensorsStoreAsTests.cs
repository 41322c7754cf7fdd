using static FineTuneAgent.Torch.Tests.SafetensorsTestFiles;

namespace FineTuneAgent.Torch.Tests;

/// <summary>Saving in another dtype: floating tensors converted chunk by chunk as written, others as they are; shards planned on stored sizes.</summary>
public sealed class SafetensorsStoreAsTests
{
    [Fact]
    public void Save_StoreAsBf16_WritesRoundedValues_LeavesIntegersAlone_AndReportsEachTensor()
    {
        using var folder = new TempFolder();
        using var w = randn(37, 11);
        using var ids = arange(5);
        var path = Path.Combine(folder.Path, "x.safetensors");
        var reported = new List<(string, long)>();
        var chunk = TensorBytes.WriteChunkBytes;
        TensorBytes.WriteChunkBytes = 64; // many chunks, so the conversion really is per chunk
        try
        {
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = w, ["ids"] = ids },
                new SafetensorsSaveOptions { StoreAs = ScalarType.BFloat16, TensorWritten = (n, b) => reported.Add((n, b)) });
        }
        finally
        {
            TensorBytes.WriteChunkBytes = chunk;
        }

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(SafetensorsDType.BF16, file.GetInfo("w").DType);
        Assert.Equal(SafetensorsDType.I64, file.GetInfo("ids").DType);
        using var stored = file.Load("w");
        using var expected = w.to_type(ScalarType.BFloat16);
        Assert.Equal(expected.to_type(ScalarType.Float32).data<float>().ToArray(), stored.to_type(ScalarType.Float32).data<float>().ToArray());
        using var storedIds = file.Load("ids");
        Assert.Equal([0L, 1, 2, 3, 4], storedIds.data<long>().ToArray());
        Assert.Equal([("ids", 40L), ("w", 37L * 11 * 2)], reported.Order());
    }

    [Fact]
    public void SaveSharded_StoreAsF16_PlansShardsAndTotalSizeOnStoredBytes()
    {
        using var folder = new TempFolder();
        using var a = randn(10, 10); // 400 bytes as f32, 200 as f16
        using var b = randn(10, 10);
        var tensors = new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b };

        // 400 bytes hold both tensors once they are f16; as f32 they would need two shards.
        var written = Safetensors.SaveSharded(folder.Path, tensors, 400, new SafetensorsSaveOptions { StoreAs = ScalarType.Float16 });
        Assert.Equal(["model.safetensors"], written.Select(Path.GetFileName));

        using var other = new TempFolder();
        Safetensors.SaveSharded(other.Path, tensors, 300, new SafetensorsSaveOptions { StoreAs = ScalarType.Float16 });
        var index = SafetensorsIndex.Read(Path.Combine(other.Path, "model.safetensors.index.json"));
        Assert.Equal(400, index.TotalSize);
        Assert.Equal(2, index.WeightMap.Values.Distinct().Count());
    }
}
