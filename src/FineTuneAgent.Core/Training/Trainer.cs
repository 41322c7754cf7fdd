using System.Diagnostics;
using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The training loop, top to bottom: each optimizer step takes the next effective batch of rows from the
/// epoch's seeded order, splits it into micro-batches, and backpropagates sum(token losses) / (label tokens
/// in the whole effective batch) per micro-batch (HF's num_items_in_batch, so accumulation equals one big
/// batch); then clips (reporting the norm before clipping), steps AdamW over the method's parameter groups
/// at the scheduled rate, logs, evaluates, keeps the best adapter, and checkpoints.
/// </summary>
/// <remarks>
/// Output folder: <c>checkpoint-&lt;step&gt;/</c> (the method's save, <see cref="OptimizerFileName"/>,
/// <see cref="TrainerState.FileName"/> and <see cref="CheckpointFiles"/>), <c>best/</c> (the method's save at the
/// best validation loss) and, at the end, the method's save in the folder itself, as HF's Trainer leaves it.
/// Resuming: the caller adapts the model from the checkpoint (<see cref="IFineTuneMethod.Load"/>) and passes
/// the folder to <see cref="Train"/>, which restores the optimizer, the schedule, the data position and the
/// generator. NaN/inf loss throws <see cref="TrainingDivergedException"/> before the update; an out-of-memory
/// throws <see cref="TrainingOutOfMemoryException"/> with the options to retry with.
/// With <see cref="DataParallel"/> set, this trainer is one replica of several (Trainer.DataParallel.cs): it runs
/// its share of every global batch, the gradients are summed over the replicas before clipping, the logged loss,
/// tokens and validation loss are the global ones, and only rank 0 writes checkpoints, the adapter and events.
/// </remarks>
public sealed partial class Trainer
{
    public const string OptimizerFileName = "optimizer.safetensors";
    public const string BestFolderName = "best";

    private readonly AdaptedModel _adapted;
    private readonly IReadOnlyList<TrainingSequence> _train;
    private readonly IReadOnlyList<TrainingSequence> _validation;
    private readonly AdapterSaveOptions _saveOptions;
    private readonly int _padTokenId;

    public Trainer(AdaptedModel adapted, TrainingOptions options, IReadOnlyList<TrainingSequence> train, IReadOnlyList<TrainingSequence> validation,
        string outputDirectory, AdapterSaveOptions saveOptions, int padTokenId = 0)
    {
        ArgumentNullException.ThrowIfNull(adapted);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.LearningRate is null)
            throw new ArgumentException("learning_rate is not resolved; call TrainingOptions.ResolvedFor(method) first", nameof(options));
        if (train.Count == 0)
            throw new ArgumentException("there are no training rows", nameof(train));
        if (adapted.TrainableParameters.Count == 0)
            throw new ArgumentException("the adapted model has no trainable parameters", nameof(adapted));
        _adapted = adapted;
        Options = options;
        _train = train;
        _validation = validation;
        OutputDirectory = Path.GetFullPath(outputDirectory);
        _saveOptions = saveOptions;
        _padTokenId = padTokenId;
        StepsPerEpoch = (train.Count + options.EffectiveBatchSize - 1) / options.EffectiveBatchSize;
        TotalSteps = options.MaxSteps ?? (int)Math.Ceiling(options.NumTrainEpochs * StepsPerEpoch);
        Schedule = LrSchedule.For(options, TotalSteps);
    }

    public TrainingOptions Options { get; }

    public string OutputDirectory { get; }

    public int StepsPerEpoch { get; }

    public int TotalSteps { get; }

    public LrSchedule Schedule { get; }

    /// <summary>Extra files (name → text) written into every checkpoint, e.g. the run's configuration.</summary>
    public IReadOnlyDictionary<string, string> CheckpointFiles { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Makes this trainer one replica of a data-parallel run (null: it trains alone). Every replica must be built
    /// on the same model, options and rows, and call <see cref="Train"/> with the same checkpoint.
    /// </summary>
    public DataParallel? DataParallel { get; init; }

    /// <summary>
    /// The loss head: <see cref="LossHeadKind.Chunked"/> (default) never materialises a whole batch's logits and
    /// projects only tokens that carry loss (<see cref="LossHead"/>); <see cref="LossHeadKind.Plain"/> computes the
    /// full logits and <see cref="CausalLM.CausalLmLoss"/> as HF does (the reference the chunked head is checked
    /// against, and what `fta bench train --plain` measures).
    /// </summary>
    public LossHeadKind Head { get; init; } = LossHeadKind.Chunked;

    /// <summary>
    /// False for a measurement (`fta bench train`): no checkpoint, best adapter or final adapter is written, so a
    /// benchmark of a large model does not spend its time and disk on files nobody reads. Runs keep the default.
    /// </summary>
    public bool WritesFiles { get; init; } = true;

    /// <summary>Test hook: runs before every micro-batch with the (1-based) step it belongs to.</summary>
    internal Action<int>? BeforeMicroBatch { get; set; }

    /// <summary>Test hook: runs on a checkpoint's complete temporary folder before it is renamed into place.</summary>
    internal Action<string>? BeforeCheckpointCommit { get; set; }

    public TrainingResult Train(IProgress<TrainingEvent>? progress = null, string? resumeFrom = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var model = _adapted.Model;
        var trainable = _adapted.TrainableParameters.Select(p => (Tensor)p.Parameter).ToList();
        var groups = _adapted.ParameterGroups(Options.LearningRate!.Value, Options.WeightDecay);
        var baseRates = groups.Select(g => g.LearningRate).ToArray();
        // The one-pass update with the other fused kernels; the plain reference path (FusedKernels.Disable) takes the eager ops.
        using var optimizer = optim.AdamW(groups, lr: Options.LearningRate.Value, weight_decay: Options.WeightDecay, fused: FusedKernels.Enabled);

        var state = new TrainerState { TotalSteps = TotalSteps, EffectiveBatchSize = Options.EffectiveBatchSize, TrainRows = _train.Count };
        if (resumeFrom is not null)
            state = Restore(resumeFrom, optimizer);
        else
            manual_seed(Options.Seed);
        var isMain = DataParallel?.IsMain ?? true;
        var report = isMain ? progress : null;
        var replicas = DataParallel is null ? null : JoinReplicas(trainable, state, report);

        var stepLosses = new List<(int, double)>();
        var valLosses = new List<(int, double)>();
        var unlogged = state.UnloggedLosses.ToList();
        string? lastCheckpoint = resumeFrom;
        var lastSavedStep = resumeFrom is null ? -1 : state.GlobalStep;
        long sessionTokens = 0;
        var sessionSteps = 0;
        var epochIndex = state.EpochIndex;
        var position = state.DataPosition;
        var order = EpochOrder.Of(_train.Count, Options.Seed, epochIndex);
        var stoppedEarly = state.EarlyStopped;

        model.train();
        while (state.GlobalStep < TotalSteps && !stoppedEarly)
        {
            var step = state.GlobalStep + 1;
            var count = Math.Min(Options.EffectiveBatchSize, _train.Count - position);
            var rows = order.Skip(position).Take(count).Select(i => _train[i]).ToList();
            var factor = Schedule.Factor(state.SchedulerStep);
            for (var g = 0; g < groups.Count; g++)
                optimizer.ParamGroups[g].LearningRate = baseRates[g] * factor;

            double loss;
            double gradNorm;
            var cancelled = false;
            try
            {
                // Every replica normalises by the label tokens of the whole global batch (see DataParallel).
                var numItems = Math.Max(1, rows.Sum(TrainingBatch.CountLabelTokens));
                (loss, var tokens) = ForwardBackward(DataParallel?.ShareOf(rows) ?? rows, numItems, step);
                double? agreedNorm = null;
                if (replicas is not null)
                    (loss, tokens, agreedNorm, cancelled) = ReduceStep(replicas, trainable, loss, tokens, cancellation.IsCancellationRequested);
                sessionTokens += tokens;
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(step, loss);
                gradNorm = agreedNorm is { } norm
                    ? ClipToNorm(trainable, norm)
                    : nn.utils.clip_grad_norm_(trainable, Options.MaxGradNorm > 0 ? Options.MaxGradNorm : double.PositiveInfinity);
                if (!double.IsFinite(gradNorm))
                    throw new TrainingDivergedException(step, gradNorm, "the gradient norm");
                optimizer.step();
            }
            catch (TorchOutOfMemoryException e)
            {
                throw new TrainingOutOfMemoryException(step, Options, e);
            }
            finally
            {
                optimizer.zero_grad();
            }

            position += count;
            if (position >= _train.Count)
            {
                epochIndex++;
                position = 0;
                order = EpochOrder.Of(_train.Count, Options.Seed, epochIndex);
            }
            sessionSteps++;
            stepLosses.Add((step, loss));
            unlogged.Add(loss);
            state = state with
            {
                GlobalStep = step,
                SchedulerStep = state.SchedulerStep + 1,
                EpochIndex = epochIndex,
                DataPosition = position,
                Epoch = epochIndex + (double)position / _train.Count,
            };

            var last = step == TotalSteps;
            if (step % Options.LoggingSteps == 0 || last)
            {
                var elapsed = clock.Elapsed;
                var perStep = elapsed / sessionSteps;
                report?.Report(new StepCompleted(step, TotalSteps, state.Epoch, unlogged.Average(), optimizer.ParamGroups[0].LearningRate, gradNorm,
                    sessionTokens / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed, perStep * (TotalSteps - step)));
                unlogged.Clear();
            }

            if (_validation.Count > 0 && (last || (Options.EvalSteps is { } every && step % every == 0)))
            {
                var val = Evaluate();
                valLosses.Add((step, val));
                var improved = state.BestValidationLoss is not { } best || val < best;
                state = improved
                    ? state with { BestValidationLoss = val, BestStep = step, EvaluationsWithoutImprovement = 0 }
                    : state with { EvaluationsWithoutImprovement = state.EvaluationsWithoutImprovement + 1 };
                if (improved && isMain && WritesFiles)
                    CheckpointFolder.WriteAtomically(Path.Combine(OutputDirectory, BestFolderName), dir => _adapted.Save(dir, _saveOptions));
                report?.Report(new EvaluationCompleted(step, val, improved, state.EvaluationsWithoutImprovement));
                if (Options.EarlyStoppingPatience is { } patience && state.EvaluationsWithoutImprovement >= patience)
                {
                    stoppedEarly = true;
                    state = state with { EarlyStopped = true };
                    report?.Report(new EarlyStopped(step, patience, state.BestValidationLoss!.Value, state.BestStep!.Value));
                }
            }

            // Replicas stop together: a cancel on any of them was summed into this step's reduction.
            cancelled = replicas is null ? cancellation.IsCancellationRequested : cancelled;
            if (WritesFiles && (step % Options.SaveSteps == 0 || last || stoppedEarly || cancelled))
            {
                lastCheckpoint = isMain ? SaveCheckpoint(state with { UnloggedLosses = unlogged.ToList() }, optimizer) : CheckpointFolder.PathFor(OutputDirectory, step);
                lastSavedStep = step;
                report?.Report(new CheckpointSaved(step, lastCheckpoint));
            }
            if (replicas is null)
                cancellation.ThrowIfCancellationRequested();
            else if (cancelled)
                throw cancellation.IsCancellationRequested
                    ? new OperationCanceledException(cancellation)
                    : new OperationCanceledException($"another data-parallel replica cancelled the run at step {step}");
        }

        if (replicas is not null)
            VerifyReplicasInSync(replicas, state.GlobalStep, report);
        if (WritesFiles && lastSavedStep != state.GlobalStep)
        {
            lastCheckpoint = isMain ? SaveCheckpoint(state with { UnloggedLosses = unlogged.ToList() }, optimizer) : CheckpointFolder.PathFor(OutputDirectory, state.GlobalStep);
            report?.Report(new CheckpointSaved(state.GlobalStep, lastCheckpoint));
        }
        if (isMain && WritesFiles)
            _adapted.Save(OutputDirectory, _saveOptions);
        // The run is over for every replica once rank 0's files are complete.
        DataParallel?.Group.barrier();
        return new TrainingResult(state.GlobalStep, TotalSteps, stepLosses, valLosses, state.BestValidationLoss, state.BestStep, stoppedEarly,
            OutputDirectory, lastCheckpoint, clock.Elapsed);
    }

    /// <summary>
    /// Validation loss: sum of token losses over every validation row / their label tokens. Data-parallel replicas
    /// each run their share of the rows and sum the sums, so every replica must call it.
    /// </summary>
    public double Evaluate()
    {
        var model = _adapted.Model;
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            double tokens = 0;
            foreach (var chunk in (DataParallel?.ShareOf(_validation) ?? _validation).Chunk(Options.PerDeviceTrainBatchSize))
            {
                using var scope = NewDisposeScope();
                using var batch = TrainingBatch.Collate(chunk, _padTokenId);
                if (batch.LabelTokens == 0)
                    continue;
                sum += (Head == LossHeadKind.Plain
                    ? CausalLM.CausalLmLoss(Forward(batch), batch.Labels, numItemsInBatch: 1)
                    : LossHead.Loss(Hidden(batch), model.OutputWeight, batch.Labels, numItemsInBatch: 1, () => Autocast(model.OutputWeight.device))).ToDouble();
                tokens += batch.LabelTokens;
            }
            if (DataParallel is { } dp)
            {
                var global = dp.Sum(model.OutputWeight.device, sum, tokens);
                (sum, tokens) = (global[0], global[1]);
            }
            return tokens == 0 ? double.NaN : sum / tokens;
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }

    /// <summary>
    /// Backpropagates sum(token losses) / <paramref name="numItems"/> over <paramref name="rows"/> in micro-batches;
    /// returns that loss and the real tokens run. A data-parallel replica passes its share and the global count.
    /// </summary>
    private (double Loss, long Tokens) ForwardBackward(IReadOnlyList<TrainingSequence> rows, long numItems, int step)
    {
        double loss = 0;
        long tokens = 0;
        foreach (var chunk in rows.Chunk(Options.PerDeviceTrainBatchSize))
        {
            BeforeMicroBatch?.Invoke(step);
            using var scope = NewDisposeScope();
            using var batch = TrainingBatch.Collate(chunk, _padTokenId);
            Tensor micro;
            var model = _adapted.Model;
            var device = model.OutputWeight.device;
            if (Options.GradientCheckpointing)
            {
                var (ids, mask, positions) = (batch.InputIds.to(device), batch.AttentionMask.to(device), batch.PositionIds.to(device));
                micro = Head == LossHeadKind.Plain
                    ? GradientCheckpointing.ForwardBackward(model, ids, mask, positions, logits => CausalLM.CausalLmLoss(logits, batch.Labels, numItems), () => Autocast(device))
                    : GradientCheckpointing.ForwardBackward(model, ids, mask, positions, batch.Labels, numItems, () => Autocast(device));
            }
            else if (Head == LossHeadKind.Plain)
            {
                micro = CausalLM.CausalLmLoss(Forward(batch), batch.Labels, numItems);
                micro.backward();
            }
            else
                micro = LossHead.ForwardBackward(Hidden(batch), model.OutputWeight, batch.Labels, numItems, () => Autocast(device));
            loss += micro.ToDouble();
            tokens += batch.RealTokens;
        }
        return (loss, tokens);
    }

    /// <summary>The logits (B, S, V) of a batch, under the run's autocast.</summary>
    private Tensor Forward(TrainingBatch batch)
    {
        using var hidden = Hidden(batch);
        using var cast = Autocast(hidden.device);
        return nn.functional.linear(hidden, _adapted.Model.OutputWeight);
    }

    /// <summary>The normed last hidden states (B, S, H) of a batch, under the run's autocast: what the loss head projects.</summary>
    private Tensor Hidden(TrainingBatch batch)
    {
        var device = _adapted.Model.OutputWeight.device;
        using var cast = Autocast(device);
        if (device.type == DeviceType.CPU)
            return _adapted.Model.model.forward(batch.InputIds, batch.AttentionMask, positionIds: batch.PositionIds);
        return _adapted.Model.model.forward(batch.InputIds.to(device), batch.AttentionMask.to(device), positionIds: batch.PositionIds.to(device));
    }

    /// <summary>bfloat16 autocast on the model's device when the run asks for bf16, else null.</summary>
    private IDisposable? Autocast(Device device) => Options.Bf16 ? autocast(device.type, ScalarType.BFloat16) : null;

    private string SaveCheckpoint(TrainerState state, optim.Optimizer optimizer)
    {
        using var rng = get_rng_state();
        var device = _adapted.Model.OutputWeight.device;
        using var cudaRng = device.type == DeviceType.CUDA ? cuda.get_rng_state(Math.Max(device.index, 0)) : null;
        var withRng = state with
        {
            RngState = Convert.ToBase64String(rng.data<byte>()),
            CudaRngState = cudaRng is null ? null : Convert.ToBase64String(cudaRng.data<byte>()),
        };
        return CheckpointFolder.WriteAtomically(CheckpointFolder.PathFor(OutputDirectory, state.GlobalStep), dir =>
        {
            _adapted.Save(dir, _saveOptions);
            var tensors = optimizer.state_dict();
            try
            {
                Safetensors.Save(Path.Combine(dir, OptimizerFileName), tensors);
            }
            finally
            {
                foreach (var t in tensors.Values)
                    t.Dispose();
            }
            foreach (var (name, text) in CheckpointFiles)
                File.WriteAllText(Path.Combine(dir, name), text);
            withRng.Write(dir);
        }, BeforeCheckpointCommit);
    }

    private TrainerState Restore(string checkpoint, optim.Optimizer optimizer)
    {
        var state = TrainerState.Read(checkpoint);
        if (state.TrainRows != _train.Count || state.EffectiveBatchSize != Options.EffectiveBatchSize)
            throw new InvalidDataException(
                $"{checkpoint} was trained on {state.TrainRows} rows with an effective batch of {state.EffectiveBatchSize}; this run has {_train.Count} rows and {Options.EffectiveBatchSize}: the data or the batch changed, so it cannot continue exactly");
        var saved = Safetensors.Load(Path.Combine(checkpoint, OptimizerFileName));
        try
        {
            optimizer.load_state_dict(saved);
        }
        finally
        {
            foreach (var t in saved.Values)
                t.Dispose();
        }
        var bytes = Convert.FromBase64String(state.RngState);
        using var rng = tensor(bytes, [bytes.Length], ScalarType.Byte);
        set_rng_state(rng);
        // A checkpoint written on another device kind (a CPU run resumed on a GPU, or back) has no state for this
        // device's generator: it keeps its seed, and only dropout's draws differ from an uninterrupted run.
        var device = _adapted.Model.OutputWeight.device;
        if (device.type == DeviceType.CUDA && state.CudaRngState is { } savedCuda)
        {
            var cudaBytes = Convert.FromBase64String(savedCuda);
            using var cudaRng = tensor(cudaBytes, [cudaBytes.Length], ScalarType.Byte);
            cuda.set_rng_state(cudaRng, Math.Max(device.index, 0));
        }
        return state;
    }
}
