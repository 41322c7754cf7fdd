using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// The output projection and the causal-LM cross-entropy computed a few label tokens at a time, so that the
/// logits of a whole sequence (S × V floats: 311 MB for 512 tokens of Qwen3's 151,936-row vocabulary, and as
/// much again for their softmax and their gradient) are never alive at once, and tokens that carry no loss
/// (labels −100: prompts, padding) are never projected at all.
/// </summary>
/// <remarks>
/// <para>The loss is <see cref="CausalLM.CausalLmLoss"/>'s, term by term: token t predicts label t+1, the logits
/// are upcast to float32 before the cross-entropy, and the sum is divided by the given item count (or by the
/// label tokens). Only the summation order differs.</para>
/// <para>Training (<see cref="ForwardBackward"/>) needs no custom autograd function: the hidden states of the
/// counted tokens are gathered once (graph kept), then each chunk is cut from them as a detached leaf, projected,
/// scored and backpropagated at once, which frees its logits and leaves the chunk's hidden gradient on the leaf;
/// the gathered gradients are handed back to the graph in one backward. The output weight's gradient (Full, or a
/// trained head) accumulates chunk by chunk. The projection runs under the caller's autocast; the backward calls
/// run outside it, as autograd expects.</para>
/// </remarks>
public static class LossHead
{
    /// <summary>
    /// Logit elements per chunk at most: 256 tokens of Qwen3's 151,936-row vocabulary (78 MB of bfloat16 logits, which their
    /// gradient then overwrites), more tokens for smaller vocabularies. Fewer rows than about 256 make the projection's
    /// matmul markedly slower on the CPU (310 against 380 GFLOP/s at 110 rows in bfloat16 here).
    /// </summary>
    public const long DefaultChunkElements = 256L * 151936;

    /// <summary>The ignore index of labels that carry no loss (HF's −100).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Loss of the normed final hidden states (B, S, H) against <paramref name="labels"/> (B, S) under the output
    /// projection <paramref name="outputWeight"/> (V, H), without recording a graph: the sum of the counted tokens'
    /// cross-entropy divided by <paramref name="numItemsInBatch"/>, or their mean when it is null (NaN when no
    /// token counts, as a mean of nothing).
    /// </summary>
    public static Tensor Loss(Tensor hidden, Tensor outputWeight, Tensor labels, long? numItemsInBatch = null,
        Func<IDisposable?>? autocast = null, long chunkElements = DefaultChunkElements)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (selected, targets, count) = Gather(hidden, labels);
        var sum = zeros([], ScalarType.Float32, hidden.device);
        if (count > 0)
        {
            var step = ChunkTokens(outputWeight, chunkElements, count);
            for (long start = 0; start < count; start += step)
            {
                using var chunkScope = NewDisposeScope();
                var length = Math.Min(step, count - start);
                var (rows, chunkTargets) = Padded(selected.narrow(0, start, length), targets.narrow(0, start, length));
                sum.add_(ScoreChunk(rows, outputWeight, chunkTargets, autocast, divisor: 1, backward: false));
            }
        }
        var loss = sum / (double)(numItemsInBatch ?? count);
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// Forward and backward of the loss (as <see cref="Loss"/>) over <paramref name="hidden"/>, which carries the
    /// model's graph: gradients flow into the output weight and, through the hidden states, into the model. Returns
    /// the loss, detached. Nothing is backpropagated when neither the hidden states nor the weight need a gradient.
    /// </summary>
    public static Tensor ForwardBackward(Tensor hidden, Tensor outputWeight, Tensor labels, long? numItemsInBatch = null,
        Func<IDisposable?>? autocast = null, long chunkElements = DefaultChunkElements)
    {
        using var scope = NewDisposeScope();
        var (selected, targets, count) = Gather(hidden, labels);
        var divisor = (double)(numItemsInBatch ?? count);
        var sum = zeros([], ScalarType.Float32, hidden.device);
        var hiddenNeedsGrad = selected.requires_grad;
        var needsBackward = hiddenNeedsGrad || outputWeight.requires_grad;
        var gradients = new List<Tensor>();
        var step = ChunkTokens(outputWeight, chunkElements, count);
        for (long start = 0; start < count; start += step)
        {
            var length = Math.Min(step, count - start);
            using var chunkScope = NewDisposeScope();
            var (rows, chunkTargets) = Padded(selected.narrow(0, start, length).detach(), targets.narrow(0, start, length));
            var leaf = rows.requires_grad_(hiddenNeedsGrad);
            sum.add_(ScoreChunk(leaf, outputWeight, chunkTargets, autocast, divisor, needsBackward));   // detached: no graph on sum
            if (hiddenNeedsGrad)
                gradients.Add(chunkScope.MoveToOuter(rows.size(0) == length ? leaf.grad! : leaf.grad!.narrow(0, 0, length)));
        }
        if (hiddenNeedsGrad && gradients.Count > 0)
            selected.backward(gradients.Count == 1 ? gradients[0] : cat(gradients));
        if (count == 0 && numItemsInBatch is null)
            sum.fill_(double.NaN);
        return scope.MoveToOuter(sum);
    }

    /// <summary>The tokens whose next label counts: their hidden states (N, H), graph kept, and their targets (N).</summary>
    private static (Tensor Selected, Tensor Targets, long Count) Gather(Tensor hidden, Tensor labels)
    {
        if (hidden.dim() != 3)
            throw new ArgumentException($"hidden states must be (batch, sequence, hidden), got [{string.Join(", ", hidden.shape)}]", nameof(hidden));
        long b = hidden.size(0), s = hidden.size(1), h = hidden.size(2);
        if (!labels.shape.SequenceEqual([b, s]))
            throw new ArgumentException($"labels have shape [{string.Join(", ", labels.shape)}], expected [{b}, {s}]", nameof(labels));
        using var hostLabels = labels.device.type == DeviceType.CPU ? labels.to_type(ScalarType.Int64) : labels.cpu().to_type(ScalarType.Int64);
        var all = hostLabels.data<long>();
        var positions = new List<long>();
        var next = new List<long>();
        for (long row = 0; row < b; row++)
            for (long t = 0; t + 1 < s; t++)
            {
                var label = all[row * s + t + 1];
                if (label == IgnoreIndex)
                    continue;
                positions.Add(row * s + t);
                next.Add(label);
            }
        var index = tensor(positions.ToArray(), [positions.Count], ScalarType.Int64, hidden.device);
        var targets = tensor(next.ToArray(), [next.Count], ScalarType.Int64, hidden.device);
        var selected = hidden.reshape(b * s, h).index_select(0, index);
        return (selected, targets, positions.Count);
    }

    /// <summary>
    /// Projects one chunk's rows (under autocast) and scores them in float32: returns Σ cross-entropy / divisor,
    /// detached. With <paramref name="backward"/> it also backpropagates that through the projection (the fused
    /// scoring gives d(loss)/d(logits) directly; the eager one goes through autograd).
    /// </summary>
    private static Tensor ScoreChunk(Tensor rows, Tensor outputWeight, Tensor targets, Func<IDisposable?>? autocast, double divisor, bool backward)
    {
        Tensor logits;
        using (autocast?.Invoke())
            logits = nn.functional.linear(rows, outputWeight);
        if (FusedScoring(logits))
        {
            if (!backward)
                return fused.cross_entropy_sum(logits, targets).to_type(ScalarType.Float32) / divisor;
            // The gradient goes over the logits: the projection's backward needs its input and weight, not its output,
            // so one logits-sized buffer serves both (155 MB per 256-token chunk of a 151,936 vocabulary in float32).
            var sum = fused.cross_entropy_with_grad_(logits, targets, 1.0 / divisor);
            using (var gradient = logits.detach())
                logits.backward(gradient);
            return sum.to_type(ScalarType.Float32) / divisor;
        }
        var loss = nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), targets, ignore_index: IgnoreIndex, reduction: nn.Reduction.Sum) / divisor;
        if (backward)
            loss.backward();
        return loss.detach();
    }

    /// <summary>
    /// Whether the shim's fused cross-entropy scores these logits (float32 or bfloat16 on the CPU): one pass for the
    /// loss and its gradient instead of a float32 copy, log-softmax and its backward, which libtorch 1.13 runs
    /// scalar on the CPU. Elsewhere (CUDA) the eager ops.
    /// </summary>
    private static bool FusedScoring(Tensor logits) =>
        FusedKernels.Enabled && logits.device.type == DeviceType.CPU && logits.dtype is ScalarType.Float32 or ScalarType.BFloat16;

    /// <summary>
    /// A chunk of 64 rows or more is padded with zero rows (targets ignored: no loss, no gradient) up to a multiple of
    /// 64: oneDNN's bfloat16 matmul runs a 511-row chunk about a third slower than a 512-row one here.
    /// </summary>
    private static (Tensor Rows, Tensor Targets) Padded(Tensor rows, Tensor targets)
    {
        const long multiple = 64;
        var n = rows.size(0);
        if (n < multiple || n % multiple == 0 || rows.device.type != DeviceType.CPU)
            return (rows, targets);
        var pad = multiple - n % multiple;
        return (cat([rows, zeros([pad, rows.size(1)], rows.dtype, rows.device)]),
                cat([targets, full([pad], IgnoreIndex, ScalarType.Int64, targets.device)]));
    }

    /// <summary>Tokens per chunk: as many as <paramref name="chunkElements"/> allows, evened out over the chunks <paramref name="count"/> needs.</summary>
    private static long ChunkTokens(Tensor outputWeight, long chunkElements, long count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkElements, 1);
        var most = Math.Max(1, chunkElements / outputWeight.size(0));
        if (count <= most)
            return Math.Max(1, count);
        var chunks = (count + most - 1) / most;
        return (count + chunks - 1) / chunks;
    }
}

/// <summary>How a trainer computes the loss from the last hidden states.</summary>
public enum LossHeadKind
{
    /// <summary><see cref="LossHead"/>: chunks of counted tokens, the whole logits never alive.</summary>
    Chunked,

    /// <summary>The whole logits (B, S, V), then <see cref="CausalLM.CausalLmLoss"/>: HF's way.</summary>
    Plain,
}
