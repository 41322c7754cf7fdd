using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Core.Tests.Evaluation;
using FineTuneAgent.Core.Training;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// The pieces of data-parallel training that need no second process: each replica's share of a batch, the gradient
/// buckets, what replicas compare before they start. (Two replicas in two processes: FineTuneAgent.Console.Tests'
/// WorkerCommandTests.)
/// </summary>
public class DataParallelTests
{
    [Fact]
    public void Share_ADivisibleBatch_StridesAsDistributedSampler()
    {
        int[] rows = [10, 11, 12, 13, 14, 15, 16, 17];
        Assert.Equal([10, 12, 14, 16], DataParallel.Share(rows, 0, 2));
        Assert.Equal([11, 13, 15, 17], DataParallel.Share(rows, 1, 2));
        Assert.Equal([11, 14, 17], DataParallel.Share(rows, 1, 3));
        Assert.Equal(rows, DataParallel.Share(rows, 0, 1));
    }

    [Fact]
    public void Share_RowsThatDoNotDivide_EveryRowOnce_SharesDifferByAtMostOne()
    {
        for (var world = 1; world <= 5; world++)
            for (var count = 0; count <= 11; count++)
            {
                var rows = Enumerable.Range(0, count).ToList();
                var shares = Enumerable.Range(0, world).Select(r => DataParallel.Share(rows, r, world)).ToList();
                Assert.Equal(rows, shares.SelectMany(s => s).Order());          // nothing repeated, nothing padded, nothing lost
                Assert.InRange(shares.Max(s => s.Count) - shares.Min(s => s.Count), 0, 1);
                Assert.True(shares.Zip(shares.Skip(1)).All(p => p.First.Count >= p.Second.Count), "lower ranks take the extra rows");
            }
        Assert.Empty(DataParallel.Share([1], 1, 2)); // a short last batch can leave a replica without rows
    }

    [Fact]
    public void Share_BadRank_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DataParallel.Share([1, 2], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataParallel.Share([1, 2], -1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataParallel.Share([1, 2], 0, 0));
    }

    [Fact]
    public void Partition_FillsBucketsUpToTheCap_InOrder_ALargeTensorAlone()
    {
        var buckets = GradientBuckets.Partition([10, 10, 30, 5, 5, 21, 1], 20);
        Assert.Equal([[0, 1], [2], [3, 4], [5], [6]], buckets.Select(b => b.ToArray()).ToArray());
        Assert.Equal([[0, 1, 2]], GradientBuckets.Partition([1, 1, 1], 100).Select(b => b.ToArray()).ToArray());
        Assert.Empty(GradientBuckets.Partition([], 100));
    }

    [Fact]
    public void Differences_NameEachFactAndTheRanksThatDiffer()
    {
        var problems = ReplicaCheck.Differences(["train_rows", "seed", "resumed_step"], [[12, 42, 4], [12, 43, 4], [12, 42, 6]]);
        Assert.Equal(["seed: rank 0 has 42, rank 1 has 43", "resumed_step: rank 0 has 4, rank 2 has 6"], problems);
        Assert.Empty(ReplicaCheck.Differences(["a"], [[1], [1]]));
    }

    [Fact]
    public void OptionsHash_IgnoresHowTheGlobalBatchIsCutIntoMicroBatches_NotTheRest()
    {
        var options = new TrainingOptions { LearningRate = 1e-4, PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 2 };
        Assert.Equal(ReplicaCheck.OptionsHash(options), ReplicaCheck.OptionsHash(options with { PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 8 }));
        Assert.NotEqual(ReplicaCheck.OptionsHash(options), ReplicaCheck.OptionsHash(options with { LearningRate = 2e-4 }));
        Assert.NotEqual(ReplicaCheck.OptionsHash(options), ReplicaCheck.OptionsHash(options with { GradientAccumulationSteps = 3 }));
    }

    [Fact]
    public void RowsHash_SeesEveryIdAndLabel()
    {
        var rows = TinyTraining.Rows(5);
        var same = TinyTraining.Rows(5);
        Assert.Equal(ReplicaCheck.RowsHash(rows), ReplicaCheck.RowsHash(same));
        var changed = rows.ToList();
        changed[3] = changed[3] with { Labels = changed[3].Labels.Select((l, i) => i == 2 ? TokenizedExample.IgnoreIndex : l).ToArray() };
        Assert.NotEqual(ReplicaCheck.RowsHash(rows), ReplicaCheck.RowsHash(changed));
        Assert.NotEqual(ReplicaCheck.RowsHash(rows), ReplicaCheck.RowsHash(rows.Take(4).ToList()));
    }
}

/// <summary>A trainer in a real Gloo group of one takes the data-parallel path: it must take the plain trainer's steps exactly.</summary>
[Collection(GeneratorCollection.Name)]
public class DataParallelTrainerTests
{
    [Fact]
    public void Trainer_InAGroupOfOne_TakesThePlainTrainersStepsExactly_AndLeavesNoTensors()
    {
        // Clipping at 0.5 acts on every step (the norms are ~1), so the agreed-norm clipping must reproduce
        // torch's clip_grad_norm_ bit for bit; validation every 2 steps goes through the summed evaluation.
        var rows = TinyTraining.Rows(10);
        var validation = TinyTraining.Rows(3, seed: 5);
        var options = new TrainingOptions
        {
            LearningRate = 1e-2, MaxSteps = 5, PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2, MaxGradNorm = 0.5,
            WarmupSteps = 1, EvalSteps = 2, ValSize = 0.1, SaveSteps = 1000,
        };
        using var outA = new TempFolder();
        using var outB = new TempFolder();
        using var plainModel = TinyTraining.Lora();
        using var replicaModel = TinyTraining.Lora();
        var plainLog = new EventLog();
        var plain = plainModel.Trainer(options, rows, outA.Path, validation).Train(plainLog);

        using var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: TimeSpan.FromSeconds(30));
        using var group = new_group_gloo(store, rank: 0, world_size: 1, timeout: TimeSpan.FromSeconds(30));
        var live = LiveTensors.Count();
        var replicaLog = new EventLog();
        var trainer = new Trainer(replicaModel.Adapted, options.ResolvedFor("lora"), rows, validation, outB.Path, TinyTraining.SaveOptions)
        {
            DataParallel = new DataParallel(group, bucketCapMegabytes: 1),
        };
        var replica = trainer.Train(replicaLog);
        Assert.Equal(live, LiveTensors.Count());

        Assert.Equal(plain.StepLosses, replica.StepLosses);
        Assert.Equal(plain.ValidationLosses, replica.ValidationLosses);
        Assert.Equal(plainLog.Steps.Select(s => s.GradNorm), replicaLog.Steps.Select(s => s.GradNorm));
        Assert.All(plainLog.Steps, s => Assert.True(s.GradNorm > options.MaxGradNorm, $"step {s.Step} was not clipped"));
        var a = plainModel.TrainableValues();
        var b = replicaModel.TrainableValues();
        foreach (var (name, values) in a)
            Assert.Equal(values, b[name]);
        var messages = replicaLog.Events.OfType<JobMessage>().Select(m => m.Text).ToList();
        Assert.Contains(messages, m => m.StartsWith("data parallel: 1 replicas over gloo", StringComparison.Ordinal));
        Assert.Contains("data parallel: after step 5 the trainable parameters of all 1 replicas equal rank 0's exactly", messages);
        Assert.True(File.Exists(Path.Combine(outB.Path, "adapter_model.safetensors")), "rank 0 writes the adapter");
    }
}
