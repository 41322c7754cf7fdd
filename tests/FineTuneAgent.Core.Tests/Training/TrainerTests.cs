using FineTuneAgent.Core.Training;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>The training loop on a tiny Qwen3 with the real LoRA plugin.</summary>
[Collection(GeneratorCollection.Name)]
public class TrainerTests
{
    private static TrainingOptions Constant(double lr, int steps) => new()
    {
        LearningRate = lr,
        MaxSteps = steps,
        LrSchedulerType = "constant",
        WarmupRatio = 0,
        SaveSteps = 1000,
    };

    [Fact]
    public void Accumulation_OneBatchOfFour_EqualsFourBatchesOfOne()
    {
        var rows = TinyTraining.Rows(4);
        using var outA = new TempFolder();
        using var outB = new TempFolder();
        using var a = TinyTraining.Lora();
        using var b = TinyTraining.Lora();
        var big = a.Trainer(Constant(1e-2, 3) with { PerDeviceTrainBatchSize = 4 }, rows, outA.Path).Train();
        var accumulated = b.Trainer(Constant(1e-2, 3) with { PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = 4 }, rows, outB.Path).Train();

        Assert.Equal(3, big.StepLosses.Count);
        for (var i = 0; i < 3; i++)
            Assert.Equal(big.StepLosses[i].Loss, accumulated.StepLosses[i].Loss, 1e-5);
        var wa = a.TrainableValues();
        var wb = b.TrainableValues();
        Assert.Equal(wa.Keys, wb.Keys);
        foreach (var (name, values) in wa)
            for (var i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - wb[name][i]) <= 1e-5, $"{name}[{i}]: {values[i]} vs {wb[name][i]}");
    }

    [Fact]
    public void GradientCheckpointing_GivesThePlainRunsLossesAndWeights_WithLoraDropout()
    {
        var rows = TinyTraining.Rows(6);
        using var outA = new TempFolder();
        using var outB = new TempFolder();
        const string settings = "{\"r\": 4, \"lora_alpha\": 8, \"lora_dropout\": 0.2}";
        using var plainModel = TinyTraining.Lora(settings);
        using var checkpointedModel = TinyTraining.Lora(settings);
        var options = Constant(1e-2, 4) with { PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2 };
        var plain = plainModel.Trainer(options, rows, outA.Path).Train();
        var checkpointed = checkpointedModel.Trainer(options with { GradientCheckpointing = true }, rows, outB.Path).Train();

        for (var i = 0; i < 4; i++)
            Assert.Equal(plain.StepLosses[i].Loss, checkpointed.StepLosses[i].Loss, 1e-6);
        var wa = plainModel.TrainableValues();
        var wb = checkpointedModel.TrainableValues();
        foreach (var (name, values) in wa)
            for (var i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - wb[name][i]) <= 1e-5, $"{name}[{i}]: {values[i]} vs {wb[name][i]}");
        // Dropout is drawing (so the checkpointed recomputation had to replay its masks): without it the losses
        // differ once B is no longer zero (step 1's output does not depend on the dropped inputs of A).
        using var outC = new TempFolder();
        using var noDropout = TinyTraining.Lora();
        var without = noDropout.Trainer(options, rows, outC.Path).Train();
        Assert.NotEqual(plain.StepLosses[3].Loss, without.StepLosses[3].Loss, 4);
    }

    [Theory]
    [InlineData("lora", false, false, 1e-4)]
    [InlineData("lora", true, false, 1e-4)]
    [InlineData("full", false, false, 1e-4)]   // the tied output weight trains: its gradient adds up chunk by chunk
    // In bfloat16 the two paths round differently by design: eager's vectorised silu rounds each intermediate to
    // bfloat16, the fused kernels only the tensors the model keeps, and the fused exp differs from libtorch's in
    // the last float bits, which can flip a bfloat16 rounding; Full then updates bfloat16 weights, which compounds.
    // The runs stay within bfloat16's own resolution of each other (2⁻⁸ of a loss near 4 is 0.016).
    [InlineData("lora", true, true, 1e-2)]
    [InlineData("full", false, true, 1e-2)]
    public void OptimisedPath_GivesThePlainPathsLosses_Over20Steps(string method, bool checkpointing, bool bf16, double tolerance)
    {
        var rows = TinyTraining.Rows(16);
        using var outA = new TempFolder();
        using var outB = new TempFolder();
        var settings = method == "lora" ? "{\"r\": 4, \"lora_alpha\": 8}" : "{}";
        using var plainModel = TinyTraining.With(method, settings);
        using var chunkedModel = TinyTraining.With(method, settings);
        var options = new TrainingOptions
        {
            LearningRate = method == "lora" ? 1e-2 : 1e-3, MaxSteps = 20, PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2,
            WarmupRatio = 0.1, SaveSteps = 1000, EvalSteps = 5, GradientCheckpointing = checkpointing, Bf16 = bf16,
        };
        var validation = TinyTraining.Rows(20).Skip(16).ToList();
        var plainTrainer = new Trainer(plainModel.Adapted, options.ResolvedFor(method), rows, validation, outA.Path, TinyTraining.SaveOptions) { Head = LossHeadKind.Plain };
        // The plain path: eager ATen ops everywhere (no fused kernel) and whole logits, HF's way.
        TrainingResult plain;
        using (FusedKernels.Disable())
            plain = plainTrainer.Train();
        var chunked = chunkedModel.Trainer(options, rows, outB.Path, validation).Train();

        Assert.Equal(20, plain.StepLosses.Count);
        Assert.Equal(20, chunked.StepLosses.Count);
        for (var i = 0; i < 20; i++)
            Assert.True(Math.Abs(plain.StepLosses[i].Loss - chunked.StepLosses[i].Loss) <= tolerance,
                $"step {i + 1}: plain path {plain.StepLosses[i].Loss}, optimised {chunked.StepLosses[i].Loss}");
        Assert.Equal(plain.ValidationLosses.Count, chunked.ValidationLosses.Count);
        Assert.NotEmpty(plain.ValidationLosses);
        for (var i = 0; i < plain.ValidationLosses.Count; i++)
            Assert.True(Math.Abs(plain.ValidationLosses[i].Loss - chunked.ValidationLosses[i].Loss) <= tolerance,
                $"eval {i}: plain head {plain.ValidationLosses[i].Loss}, chunked {chunked.ValidationLosses[i].Loss}");
        // The runs trained (so the parity covers updates, not 20 copies of one loss).
        Assert.True(chunked.StepLosses[^1].Loss < 0.8 * chunked.StepLosses[0].Loss, $"{chunked.StepLosses[0].Loss} → {chunked.StepLosses[^1].Loss}");
    }

    [Fact]
    public void Bf16Autocast_StaysNearFloat32_AndTheLossFalls()
    {
        var rows = TinyTraining.Rows(8);
        using var outA = new TempFolder();
        using var outB = new TempFolder();
        using var fp32 = TinyTraining.Lora("{\"r\": 8, \"lora_alpha\": 16}");
        using var bf16 = TinyTraining.Lora("{\"r\": 8, \"lora_alpha\": 16}");
        var options = new TrainingOptions { LearningRate = 1e-2, MaxSteps = 30, PerDeviceTrainBatchSize = 4, WarmupRatio = 0.1, SaveSteps = 1000 };
        var a = fp32.Trainer(options, rows, outA.Path).Train();
        var b = bf16.Trainer(options with { Bf16 = true }, rows, outB.Path).Train();
        // bfloat16 keeps 8 bits of mantissa: the first loss (same weights, same batch) agrees to about 1%.
        Assert.Equal(a.StepLosses[0].Loss, b.StepLosses[0].Loss, 0.02 * a.StepLosses[0].Loss);
        Assert.NotEqual(a.StepLosses[0].Loss, b.StepLosses[0].Loss); // autocast really ran in bfloat16
        var lastB = b.StepLosses.TakeLast(4).Average(s => s.Loss);
        Assert.True(lastB < 0.6 * b.StepLosses[0].Loss, $"bf16 loss {b.StepLosses[0].Loss:F3} → {lastB:F3}");
    }

    [Fact]
    public void Loss_Falls_OnMemorisableRows()
    {
        using var output = new TempFolder();
        using var tiny = TinyTraining.Lora("{\"r\": 8, \"lora_alpha\": 16}");
        var log = new EventLog();
        var result = tiny.Trainer(new TrainingOptions { LearningRate = 1e-2, MaxSteps = 40, PerDeviceTrainBatchSize = 4, WarmupRatio = 0.1 }, TinyTraining.Rows(8), output.Path)
            .Train(log);
        var first = result.StepLosses[0].Loss;
        var last = result.StepLosses.TakeLast(4).Average(s => s.Loss);
        // Margin: the last four steps average under 60% of the first step's loss (ln 67 ≈ 4.2 at the start).
        Assert.True(last < 0.6 * first, $"loss {first:F3} → {last:F3}");
        Assert.Equal(40, log.Steps.Count);
        Assert.All(log.Steps, s => Assert.True(s.GradNorm > 0 && s.TokensPerSecond > 0 && s.Eta is not null));
        Assert.Equal(0.0, log.Steps[0].LearningRate); // warmup starts at 0, as HF
        Assert.True(File.Exists(Path.Combine(output.Path, "adapter_model.safetensors")));
        Assert.True(CheckpointFolder.IsCheckpoint(Path.Combine(output.Path, "checkpoint-40")));
    }

    [Fact]
    public void Clipping_ReportsTheNormBeforeClipping_AndScalesTheUpdate()
    {
        var rows = TinyTraining.Rows(1);
        const double maxNorm = 1e-3;
        using var output = new TempFolder();
        using var clippedRun = TinyTraining.Lora();
        var log = new EventLog();
        // The whole-logits head, as the hand-written steps below compute the loss (clipping is what is checked here).
        clippedRun.Trainer(Constant(1e-2, 3) with { MaxGradNorm = maxNorm }, rows, output.Path, head: LossHeadKind.Plain).Train(log);

        // The same three steps by hand: gradients scaled by max_norm / (norm + 1e-6) as torch's clip_grad_norm_.
        using var manual = TinyTraining.Lora();
        var trainable = manual.Adapted.TrainableParameters.Select(p => p.Parameter).ToList();
        using var optimizer = optim.AdamW(manual.Adapted.ParameterGroups(1e-2, 0), lr: 1e-2, weight_decay: 0);
        manual.Model.train();
        var norms = new List<double>();
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            using var batch = TrainingBatch.Collate(rows, 0);
            var loss = CausalLM.CausalLmLoss(manual.Model.forward(batch.InputIds, batch.AttentionMask, positionIds: batch.PositionIds), batch.Labels, batch.LabelTokens);
            loss.backward();
            var grads = trainable.Select(p => p.grad!).ToList();
            var norm = Math.Sqrt(grads.Sum(g => g.pow(2).sum().ToDouble()));
            norms.Add(norm);
            using (no_grad())
                foreach (var g in grads)
                    g.mul_(Math.Min(1.0, maxNorm / (norm + 1e-6)));
            optimizer.step();
            optimizer.zero_grad();
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(norms[i], log.Steps[i].GradNorm, norms[i] * 1e-4);
            Assert.True(log.Steps[i].GradNorm > 10 * maxNorm, "the reported norm is the one before clipping");
        }
        AssertClose(manual.TrainableValues(), clippedRun.TrainableValues(), 1e-6);

        // Without clipping the weights differ: clipping did act on the update.
        using var unclipped = TinyTraining.Lora();
        using var output2 = new TempFolder();
        unclipped.Trainer(Constant(1e-2, 3) with { MaxGradNorm = 0 }, rows, output2.Path).Train();
        var a = clippedRun.TrainableValues();
        var b = unclipped.TrainableValues();
        Assert.Contains(a.Keys, k => a[k].Zip(b[k]).Any(p => Math.Abs(p.First - p.Second) > 1e-5));
    }

    [Fact]
    public void Resume_FromACheckpoint_ContinuesExactly()
    {
        // LoRA dropout on, so the generator state matters.
        const string settings = "{\"r\": 4, \"lora_alpha\": 8, \"lora_dropout\": 0.1}";
        var rows = TinyTraining.Rows(6);
        var validation = TinyTraining.Rows(2, seed: 5);
        var options = new TrainingOptions { LearningRate = 5e-3, MaxSteps = 8, PerDeviceTrainBatchSize = 2, GradientAccumulationSteps = 2, SaveSteps = 3, EvalSteps = 2, ValSize = 0.1 };

        using var full = new TempFolder();
        using var whole = TinyTraining.Lora(settings);
        var uninterrupted = whole.Trainer(options, rows, full.Path, validation).Train();

        using var split = new TempFolder();
        using var cts = new CancellationTokenSource();
        using (var first = TinyTraining.Lora(settings))
        {
            var stopAt5 = new EventLog(e => { if (e is StepCompleted { Step: 5 }) cts.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => first.Trainer(options, rows, split.Path, validation).Train(stopAt5, cancellation: cts.Token));
        }
        var checkpoint = CheckpointFolder.Latest(split.Path)!;
        Assert.EndsWith("checkpoint-5", checkpoint);
        using var resumedModel = TinyTraining.LoraFrom(checkpoint);
        var resumed = resumedModel.Trainer(options, rows, split.Path, validation).Train(resumeFrom: checkpoint);

        Assert.Equal([6, 7, 8], resumed.StepLosses.Select(s => s.Step));
        foreach (var (step, loss) in resumed.StepLosses)
            Assert.Equal(uninterrupted.StepLosses.Single(s => s.Step == step).Loss, loss, 1e-6);
        Assert.Equal(uninterrupted.ValidationLosses.Single(v => v.Step == 8).Loss, resumed.ValidationLosses.Single(v => v.Step == 8).Loss, 1e-6);
        AssertClose(whole.TrainableValues(), resumedModel.TrainableValues(), 1e-6);
    }

    [Fact]
    public void NaN_StopsWithTheStep_AndKeepsTheLastCheckpoint()
    {
        using var output = new TempFolder();
        using var tiny = TinyTraining.Lora();
        var trainer = tiny.Trainer(Constant(1e-2, 6) with { SaveSteps = 2 }, TinyTraining.Rows(4), output.Path);
        trainer.BeforeMicroBatch = step =>
        {
            if (step == 3)
                using (no_grad())
                    tiny.Adapted.TrainableParameters[0].Parameter.fill_(double.NaN);
        };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Equal(3, e.Step);
        Assert.Contains("step 3", e.Message);
        Assert.EndsWith("checkpoint-2", CheckpointFolder.Latest(output.Path));
    }

    [Fact]
    public void OutOfMemory_IsItsOwnException_WithHalfTheMicroBatch_AndTheRetryRuns()
    {
        var rows = TinyTraining.Rows(8);
        using var output = new TempFolder();
        var options = Constant(1e-2, 4) with { PerDeviceTrainBatchSize = 4, GradientAccumulationSteps = 1, SaveSteps = 1 };
        using (var tiny = TinyTraining.Lora())
        {
            var trainer = tiny.Trainer(options, rows, output.Path);
            trainer.BeforeMicroBatch = step =>
            {
                if (step == 3)
                    throw new TorchOutOfMemoryException("injected: CPU out of memory");
            };
            var e = Assert.Throws<TrainingOutOfMemoryException>(() => trainer.Train());
            Assert.Equal(3, e.Step);
            Assert.IsType<TorchOutOfMemoryException>(e.InnerException);
            Assert.Equal(2, e.Retry!.PerDeviceTrainBatchSize);
            Assert.Equal(2, e.Retry.GradientAccumulationSteps);
            Assert.Equal(options.EffectiveBatchSize, e.Retry.EffectiveBatchSize);
            options = e.Retry;
        }
        // The supervisor's retry: from the last checkpoint with the halved micro-batch.
        var checkpoint = CheckpointFolder.Latest(output.Path)!;
        Assert.EndsWith("checkpoint-2", checkpoint);
        using var retry = TinyTraining.LoraFrom(checkpoint);
        var result = retry.Trainer(options, rows, output.Path).Train(resumeFrom: checkpoint);
        Assert.Equal([3, 4], result.StepLosses.Select(s => s.Step));
    }

    [Fact]
    public void Evaluation_KeepsTheBest_AndEarlyStoppingStopsAfterThePatience()
    {
        using var output = new TempFolder();
        using var tiny = TinyTraining.Lora();
        // A learning rate this high overshoots, so validation stops improving and patience runs out.
        var options = Constant(0.5, 40) with { EvalSteps = 1, EarlyStoppingPatience = 2, ValSize = 0.2, PerDeviceTrainBatchSize = 4 };
        var log = new EventLog();
        var result = tiny.Trainer(options, TinyTraining.Rows(4), output.Path, TinyTraining.Rows(2, seed: 3)).Train(log);
        var evaluations = log.Events.OfType<EvaluationCompleted>().ToList();
        Assert.True(result.StoppedEarly, "expected early stopping within 40 steps");
        Assert.Equal(2, evaluations[^1].EvaluationsWithoutImprovement);
        Assert.Equal(evaluations.Min(e => e.ValidationLoss), result.BestValidationLoss);
        Assert.True(File.Exists(Path.Combine(output.Path, Trainer.BestFolderName, "adapter_model.safetensors")));
        Assert.Single(log.Events.OfType<EarlyStopped>());
        Assert.True(CheckpointFolder.IsCheckpoint(CheckpointFolder.PathFor(output.Path, result.Steps)));
    }

    private static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, double tolerance)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
            for (var i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - actual[name][i]) <= tolerance, $"{name}[{i}]: {values[i]} vs {actual[name][i]}");
    }
}
