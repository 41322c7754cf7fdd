using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Chat;

namespace FineTuneAgent.Core.Tests.Datasets;

public sealed class MixSplitPackTests : IDisposable
{
    private readonly DatasetTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static IReadOnlyList<string> Items(string prefix, int n) => Enumerable.Range(0, n).Select(i => $"{prefix}{i}").ToArray();

    [Fact]
    public void Mix_SevenToThree_CountsFollowTheRatio()
    {
        var mixed = DatasetMixer.Mix([Items("a", 70), Items("b", 100)], [7, 3], seed: 1);

        Assert.Equal(100, mixed.Count);
        Assert.Equal(70, mixed.Count(x => x.StartsWith('a')));
        Assert.Equal(30, mixed.Count(x => x.StartsWith('b')));
        Assert.Equal(100, mixed.Distinct().Count());
    }

    [Fact]
    public void Mix_Counts_TakeTheLargestMixWithoutRepeats()
    {
        Assert.Equal([99, 43], DatasetMixer.Counts([100, 100], [7, 3]));
        Assert.Equal([10, 20, 30], DatasetMixer.Counts([10, 1000, 1000], [1, 2, 3]));
        Assert.Equal([5, 5], DatasetMixer.Counts([5, 9], [1, 1]));
    }

    [Fact]
    public void Mix_IsDeterministicForASeedAndDiffersForAnother()
    {
        IReadOnlyList<IReadOnlyList<string>> sources = [Items("a", 50), Items("b", 50)];

        var first = DatasetMixer.Mix(sources, [1, 1], seed: 7);
        var again = DatasetMixer.Mix(sources, [1, 1], seed: 7);
        var other = DatasetMixer.Mix(sources, [1, 1], seed: 8);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        // Interleaved, not one dataset after the other.
        Assert.Contains(first.Take(20), x => x.StartsWith('a'));
        Assert.Contains(first.Take(20), x => x.StartsWith('b'));
    }

    [Fact]
    public void Mix_WithoutRatios_ConcatenatesEverything()
    {
        Assert.Equal(["a0", "a1", "b0"], DatasetMixer.Mix([Items("a", 2), Items("b", 1)], null, seed: 1));
    }

    [Fact]
    public void Split_IsDeterministicBySeed_FractionOrCount()
    {
        var items = Items("x", 100);

        var (train, val) = DatasetSplitter.Split(items, 0.1, seed: 3);
        var (train2, val2) = DatasetSplitter.Split(items, 0.1, seed: 3);
        var (_, valOther) = DatasetSplitter.Split(items, 0.1, seed: 4);
        var (_, valCount) = DatasetSplitter.Split(items, 7, seed: 3);

        Assert.Equal(10, val.Count);
        Assert.Equal(90, train.Count);
        Assert.Equal(val, val2);
        Assert.Equal(train, train2);
        Assert.NotEqual(val, valOther);
        Assert.Empty(train.Intersect(val));
        Assert.Equal(items.Order(StringComparer.Ordinal), train.Concat(val).Order(StringComparer.Ordinal));
        Assert.Equal(7, valCount.Count);
    }

    [Fact]
    public void Split_ValSizeLeavingNothingToTrain_IsAnError()
    {
        Assert.Throws<DatasetException>(() => DatasetSplitter.Split(Items("x", 5), 5, seed: 1));
    }

    [Fact]
    public void Pack_KeepsEveryTokenAndRecordsBoundaries()
    {
        var examples = new[] { 3, 5, 2, 6, 1, 4 }
            .Select((n, k) => new TokenizedExample(
                Enumerable.Range(k * 100, n).ToArray(),
                Enumerable.Range(k * 100, n).Select((id, i) => i == 0 ? -100 : id).ToArray(), 0))
            .ToArray();

        var rows = SequencePacker.Pack(examples, cutoffLength: 8);

        Assert.Equal([8, 8, 5], rows.Select(r => r.Length)); // [3+5] [2+6] [1+4]
        Assert.Equal(examples.SelectMany(e => e.InputIds), rows.SelectMany(r => r.InputIds));
        Assert.Equal(examples.SelectMany(e => e.Labels), rows.SelectMany(r => r.Labels));
        Assert.Equal([0, 3], rows[0].ExampleStarts);
        Assert.Equal([0, 1, 2, 0, 1, 2, 3, 4], rows[0].PositionIds());
        var unpacked = rows.SelectMany(r => Enumerable.Range(0, r.ExampleStarts.Length).Select(r.Example)).ToArray();
        Assert.Equal(examples.Select(e => e.InputIds), unpacked.Select(u => u.InputIds));
        Assert.All(rows, r => Assert.True(r.Length <= 8));
    }

    [Fact]
    public void Pipeline_PackingAndSplit_KeepEveryExample()
    {
        var path = _files.Lines("p.jsonl", Enumerable.Range(0, 30).Select(i => $$"""{"instruction": "What is {{i}} + 1?", "output": "{{i + 1}}"}""").ToArray());
        var request = DatasetRequest.For(DatasetDescription.Alpaca(path)) with { CutoffLength = 128, ValSize = 0.2, Seed = 5 };

        var plain = DatasetPipeline.Prepare(request, RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null);
        var packed = DatasetPipeline.Prepare(request with { Packing = true }, RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null);

        Assert.Equal(24, plain.Train.Count);
        Assert.Equal(6, plain.Validation.Count);
        Assert.True(packed.Train.Count < plain.Train.Count);
        Assert.Equal(plain.Train.SelectMany(r => r.InputIds), packed.Train.SelectMany(r => r.InputIds));
        Assert.Equal(plain.Train.SelectMany(r => r.Labels), packed.Train.SelectMany(r => r.Labels));
        Assert.Equal(24, packed.Train.Sum(r => r.ExampleStarts.Length));
        Assert.Equal(24, packed.Summary.TrainExamples);
        Assert.Equal(packed.Train.Count, packed.Summary.TrainSequences);
    }

    [Fact]
    public void Pipeline_Ratios_UseTheRightShareOfEachFile()
    {
        var a = _files.Lines("a.jsonl", Enumerable.Range(0, 70).Select(i => $$"""{"instruction": "a{{i}}", "output": "x"}""").ToArray());
        var b = _files.Lines("b.jsonl", Enumerable.Range(0, 100).Select(i => $$"""{"instruction": "b{{i}}", "output": "y"}""").ToArray());
        var request = new DatasetRequest([new DatasetSource(DatasetDescription.Alpaca(a), 7), new DatasetSource(DatasetDescription.Alpaca(b), 3)]);

        var result = DatasetPipeline.Prepare(request, RealTokenizers.Qwen3, ChatFormats.Qwen3, [], null);

        Assert.Equal([70, 30], result.Summary.Sources.Select(s => s.Used));
        Assert.Equal(100, result.Train.Count);
    }
}
