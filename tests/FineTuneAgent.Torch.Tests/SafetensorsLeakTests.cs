namespace FineTuneAgent.Torch.Tests;

public sealed class SafetensorsLeakTests
{
    [Fact]
    public void SaveAndLoad_SingleShardedAndFailing_LeaveNoLiveTensorsBehind()
    {
        using var folder = new TempFolder();
        var baseline = LiveCount.Settled();

        using (var a = randn(3, 5))
        using (var b = arange(10, ScalarType.Int64))
        using (var c = zeros([2, 0], ScalarType.Float16))
        {
            var tensors = new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["c"] = c };
            var single = folder.File("single.safetensors");
            Safetensors.Save(single, tensors);
            Safetensors.SaveSharded(folder.File("sharded"), tensors, maxShardBytes: 64);

            using (var file = SafetensorsFile.Open(single))
            {
                file.Load("a").Dispose();
                DisposeAll(file.LoadAll());
            }
            DisposeAll(Safetensors.Load(folder.File("sharded")));
            using (var sharded = Safetensors.Open(folder.File("sharded")))
                sharded.Load("b").Dispose();

            // A load that fails part-way must not strand the tensors it had already made.
            var bad = folder.Write("bad.safetensors", SafetensorsTestFiles.Build(
                """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"U16","shape":[1],"data_offsets":[4,6]}}""",
                new byte[6]));
            Assert.Throws<SafetensorsException>(() => Safetensors.Load(bad));
        }

        Assert.Equal(baseline, LiveCount.Settled());
    }

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        Assert.NotEmpty(tensors);
        foreach (var t in tensors.Values)
            t.Dispose();
    }
}
