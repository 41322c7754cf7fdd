using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void Validate_ReportsEveryBadField_ByItsName()
    {
        var bad = new TrainingOptions
        {
            LearningRate = -1,
            PerDeviceTrainBatchSize = 0,
            GradientAccumulationSteps = 0,
            LrSchedulerType = "cosinus",
            WarmupRatio = 2,
            MaxGradNorm = -1,
            EarlyStoppingPatience = 3,
            CutoffLen = 1,
        };
        var e = Assert.Throws<TrainingOptionsException>(bad.Validate);
        Assert.Equal(
            ["learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps", "lr_scheduler_type", "warmup_ratio", "max_grad_norm", "early_stopping_patience", "early_stopping_patience", "cutoff_len"],
            e.Fields);
        Assert.Contains("training option 'lr_scheduler_type': \"cosinus\" is not one of", e.Message);
    }

    [Fact]
    public void Read_UnknownKey_SuggestsTheNearest_AndWrongTypeNamesTheField()
    {
        var typo = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(JsonNode.Parse("{\"learning_rte\": 1e-4}")!.AsObject()));
        Assert.Equal(["learning_rte"], typo.Fields);
        Assert.Contains("did you mean 'learning_rate'", typo.Message);
        var type = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(JsonNode.Parse("{\"per_device_train_batch_size\": \"four\"}")!.AsObject()));
        Assert.Equal(["per_device_train_batch_size"], type.Fields);
        var semantic = Assert.Throws<TrainingOptionsException>(() => TrainingOptionsJson.Read(JsonNode.Parse("{\"lr_scheduler_type\": \"constant\", \"warmup_steps\": 5}")!.AsObject()));
        Assert.Equal(["warmup_steps"], semantic.Fields);
    }

    [Fact]
    public void ReadWrite_RoundTrips_AndMaxStepsMinusOneMeansUnset()
    {
        var options = new TrainingOptions { LearningRate = 3e-4, MaxSteps = 12, PerDeviceTrainBatchSize = 2, EvalSteps = 4, EarlyStoppingPatience = 2, ValSize = 0.1, Bf16 = true };
        Assert.Equal(options, TrainingOptionsJson.Read(TrainingOptionsJson.Write(options)));
        Assert.Null(TrainingOptionsJson.Read(JsonNode.Parse("{\"max_steps\": -1}")!.AsObject()).MaxSteps);
    }

    [Fact]
    public void LearningRate_DefaultsByMethod()
    {
        Assert.Equal(1e-4, new TrainingOptions().ResolvedFor("lora").LearningRate);
        Assert.Equal(1e-4, new TrainingOptions().ResolvedFor("qlora").LearningRate);
        Assert.Equal(1e-5, new TrainingOptions().ResolvedFor("full").LearningRate);
        Assert.Equal(2e-4, new TrainingOptions { LearningRate = 2e-4 }.ResolvedFor("full").LearningRate);
    }

    [Theory]
    [InlineData(8, 1, 4, 2)]
    [InlineData(4, 3, 2, 6)]
    [InlineData(2, 2, 1, 4)]
    [InlineData(3, 2, 1, 6)]
    public void HalveMicroBatch_KeepsTheEffectiveBatch(int batch, int accumulation, int halvedBatch, int halvedAccumulation)
    {
        var options = new TrainingOptions { PerDeviceTrainBatchSize = batch, GradientAccumulationSteps = accumulation };
        var halved = options.HalveMicroBatch();
        Assert.Equal((halvedBatch, halvedAccumulation), (halved.PerDeviceTrainBatchSize, halved.GradientAccumulationSteps));
        Assert.Equal(options.EffectiveBatchSize, halved.EffectiveBatchSize);
    }

    [Fact]
    public void HalveMicroBatch_OfOne_CannotShrink()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new TrainingOptions { PerDeviceTrainBatchSize = 1 }.HalveMicroBatch());
        Assert.Contains("per_device_train_batch_size", e.Message);
    }
}
