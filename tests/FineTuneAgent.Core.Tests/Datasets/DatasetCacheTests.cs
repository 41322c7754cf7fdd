using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

public sealed class DatasetCacheTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private DatasetRequest Request()
    {
        var path = _files.Lines("c.jsonl", Enumerable.Range(0, 12).Select(i => $$"""{"instruction": "What is {{i}} * 2?", "output": "{{i * 2}}"}""").ToArray());
        return DatasetRequest.For(DatasetDescription.Alpaca(path)) with { CacheDirectory = Path.Combine(_files.Folder, "cache"), ValSize = 2, Packing = true, CutoffLength = 64 };
    }

    private static (PreparedDataset Result, int EncodeCalls) Run(DatasetRequest request)
    {
        var tokenizer = new CountingTokenizer(RealTokenizers.Qwen3);
        var result = DatasetPipeline.Prepare(request, tokenizer, ChatFormats.Qwen3, RealTokenizers.Files("qwen3"), null);
        return (result, tokenizer.EncodeCalls);
    }

    private static void AssertSame(PreparedDataset expected, PreparedDataset actual)
    {
        Assert.Equal(expected.Train.Select(r => r.InputIds), actual.Train.Select(r => r.InputIds));
        Assert.Equal(expected.Train.Select(r => r.Labels), actual.Train.Select(r => r.Labels));
        Assert.Equal(expected.Train.Select(r => r.ExampleStarts), actual.Train.Select(r => r.ExampleStarts));
        Assert.Equal(expected.Validation.Select(r => r.InputIds), actual.Validation.Select(r => r.InputIds));
        Assert.Equal(expected.Summary.Describe(), actual.Summary.Describe());
    }

    [Fact]
    public void SecondRun_LoadsFromCacheWithoutTokenizing()
    {
        var request = Request();

        var (first, firstCalls) = Run(request);
        var (second, secondCalls) = Run(request);

        Assert.Equal(CacheOutcome.Miss, first.Cache);
        Assert.True(firstCalls > 0);
        Assert.True(File.Exists(first.CacheFile));
        Assert.Equal(CacheOutcome.Hit, second.Cache);
        Assert.Equal(0, secondCalls);
        Assert.Equal(first.CacheFile, second.CacheFile);
        AssertSame(first, second);
    }

    [Fact]
    public void ChangedDataOrOptions_MissTheCache()
    {
        var request = Request();
        Run(request);

        var (otherSeed, _) = Run(request with { Seed = 99 });
        File.AppendAllText(request.Sources[0].Description.FilePath, """{"instruction": "new", "output": "row"}""" + "\n");
        var (changedData, _) = Run(request);

        Assert.Equal(CacheOutcome.Miss, otherSeed.Cache);
        Assert.Equal(CacheOutcome.Miss, changedData.Cache);
        Assert.Equal(3, Directory.GetFiles(request.CacheDirectory!, "*.ftads").Length);
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("flip")]
    [InlineData("short")]
    public void DamagedCache_IsDetectedAndRebuilt(string damage)
    {
        var request = Request();
        var (first, _) = Run(request);
        var bytes = File.ReadAllBytes(first.CacheFile!);
        switch (damage)
        {
            case "truncate":
                File.WriteAllBytes(first.CacheFile!, bytes[..(bytes.Length - 50)]);
                break;
            case "flip":
                bytes[bytes.Length / 2] ^= 0x40;
                File.WriteAllBytes(first.CacheFile!, bytes);
                break;
            default:
                File.WriteAllBytes(first.CacheFile!, bytes[..20]);
                break;
        }

        var (rebuilt, calls) = Run(request);
        var (again, againCalls) = Run(request);

        Assert.Equal(CacheOutcome.Rebuilt, rebuilt.Cache);
        Assert.NotNull(rebuilt.CacheProblem);
        Assert.True(calls > 0);
        AssertSame(first, rebuilt);
        Assert.Equal(CacheOutcome.Hit, again.Cache);
        Assert.Equal(0, againCalls);
    }

    [Fact]
    public void CacheFile_StartsWithMagicAndVersion()
    {
        var (first, _) = Run(Request());
        var bytes = File.ReadAllBytes(first.CacheFile!);

        Assert.Equal("FTADSET\0"u8.ToArray(), bytes[..8]);
        Assert.Equal(DatasetCache.Version, BitConverter.ToInt32(bytes, 8));
    }
}
