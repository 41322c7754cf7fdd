using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// Forward and backward of a causal LM with every decoder layer recomputed in backward (HF's
/// gradient_checkpointing, torch.utils.checkpoint per layer). The forward records no graph; it keeps
/// only each layer's input (B, S, H) and the generator state the layer started from. The loss head
/// (final norm, output projection, the caller's loss) runs with recording on over the detached last
/// hidden state. Backward then walks down the layers: layer i is re-run from its saved input with
/// recording on and the generator put back where its forward had it (so dropout draws the same masks),
/// its output is backpropagated with the gradient from above, and the gradient of its input is handed
/// down. At most one layer's activations are alive at a time, besides the saved inputs and the head.
/// </summary>
/// <remarks>
/// Parameters get the gradients a plain backward gives them (the same operations on the same values).
/// The walk stops below the lowest layer with a trainable parameter when the embeddings are frozen
/// (LoRA, Freeze), as autograd would. The generator ends where the plain forward would leave it, so a
/// checkpointed run draws the same random numbers afterwards as an unchecked one. Recomputation runs
/// under the caller's autocast; the backward calls run outside it, as torch.utils.checkpoint does.
/// </remarks>
public static class GradientCheckpointing
{
    /// <summary>
    /// Runs the forward and the backward of one micro-batch; gradients accumulate into the parameters'
    /// .grad. Returns the loss, detached. <paramref name="lossOf"/> maps the logits (B, S, V) to a scalar
    /// loss; <paramref name="autocast"/> opens the autocast scope the forward passes run in (or null).
    /// </summary>
    public static Tensor ForwardBackward(CausalLM lm, Tensor inputIds, Tensor? attentionMask, Tensor? positionIds,
        Func<Tensor, Tensor> lossOf, Func<IDisposable?>? autocast = null)
    {
        ArgumentNullException.ThrowIfNull(lm);
        ArgumentNullException.ThrowIfNull(lossOf);
        return Run(lm, inputIds, attentionMask, positionIds, normed =>
        {
            Tensor loss;
            using (autocast?.Invoke())
                loss = lossOf(nn.functional.linear(normed, lm.OutputWeight));
            loss.backward();
            return loss.detach();
        }, autocast);
    }

    /// <summary>
    /// As the other overload, with the causal-LM loss against <paramref name="labels"/> computed by
    /// <see cref="LossHead"/> (chunked: the whole logits are never alive). Returns the loss, detached.
    /// </summary>
    public static Tensor ForwardBackward(CausalLM lm, Tensor inputIds, Tensor? attentionMask, Tensor? positionIds,
        Tensor labels, long? numItemsInBatch, Func<IDisposable?>? autocast = null, long chunkElements = LossHead.DefaultChunkElements)
    {
        ArgumentNullException.ThrowIfNull(lm);
        ArgumentNullException.ThrowIfNull(labels);
        return Run(lm, inputIds, attentionMask, positionIds,
            normed => LossHead.ForwardBackward(normed, lm.OutputWeight, labels, numItemsInBatch, autocast, chunkElements), autocast);
    }

    /// <summary>
    /// The walk; <paramref name="headForwardBackward"/> maps the normed last hidden state to the loss, runs its
    /// backward (outside autocast) and returns it detached.
    /// </summary>
    private static Tensor Run(CausalLM lm, Tensor inputIds, Tensor? attentionMask, Tensor? positionIds,
        Func<Tensor, Tensor> headForwardBackward, Func<IDisposable?>? autocast)
    {
        using var scope = NewDisposeScope();
        var body = lm.model;
        var layers = body.layers.ToList();
        var n = layers.Count;
        var device = inputIds.device;

        // belowNeedsGrad[i]: something under layer i's input trains, so its input needs a gradient.
        var layerTrains = layers.Select(l => l.parameters().Any(p => p.requires_grad)).ToArray();
        var belowNeedsGrad = new bool[n + 1];
        belowNeedsGrad[0] = body.embed_tokens.weight.requires_grad;
        for (var i = 0; i < n; i++)
            belowNeedsGrad[i + 1] = belowNeedsGrad[i] || layerTrains[i];

        Tensor embedded;
        using (autocast?.Invoke())
            embedded = body.embed_tokens.call(inputIds);   // its graph holds only the ids
        var shared = body.LayerInputs(inputIds, attentionMask, 0, positionIds, embedded.dtype);

        var inputs = new Tensor[n];
        var generatorStates = new GeneratorState[n];
        Tensor top;
        using (no_grad())
        using (autocast?.Invoke())
        {
            var x = embedded.detach();
            for (var i = 0; i < n; i++)
            {
                inputs[i] = x;
                generatorStates[i] = GeneratorState.Take(device);
                x = layers[i].forward(x, shared.Cos, shared.Sin, shared.Allowed, cache: null);
            }
            top = x;
        }
        using var afterForward = GeneratorState.Take(device);

        try
        {
            var last = top.detach().requires_grad_(belowNeedsGrad[n]);
            Tensor normed;
            using (autocast?.Invoke())
                normed = body.norm.call(last);
            var loss = headForwardBackward(normed);
            var gradient = belowNeedsGrad[n] ? last.grad : null;

            for (var i = n - 1; i >= 0 && gradient is not null; i--)
            {
                using var layerScope = NewDisposeScope();
                var input = inputs[i].detach().requires_grad_(belowNeedsGrad[i]);
                generatorStates[i].Restore();
                Tensor output;
                using (enable_grad())
                using (autocast?.Invoke())
                    output = layers[i].forward(input, shared.Cos, shared.Sin, shared.Allowed, cache: null);
                output.backward(gradient);
                gradient = belowNeedsGrad[i] ? layerScope.MoveToOuter(input.grad!) : null;
                inputs[i].Dispose();
            }
            if (gradient is not null && embedded.requires_grad)
                embedded.backward(gradient);
            return scope.MoveToOuter(loss);
        }
        finally
        {
            afterForward.Restore();
            foreach (var state in generatorStates)
                state?.Dispose();
        }
    }

    /// <summary>The CPU generator's state and, for a CUDA device, that device's (torch.utils.checkpoint's preserve_rng_state).</summary>
    private sealed class GeneratorState : IDisposable
    {
        private readonly Tensor _cpu;
        private readonly Tensor? _cuda;
        private readonly int _cudaIndex;

        private GeneratorState(Tensor cpu, Tensor? cuda, int cudaIndex)
        {
            _cpu = cpu;
            _cuda = cuda;
            _cudaIndex = cudaIndex;
        }

        public static GeneratorState Take(Device device)
        {
            // Outside any dispose scope: these live until the walk down is done.
            using var detached = NewDisposeScope();
            var cpu = detached.Detach(get_rng_state());
            if (device.type != DeviceType.CUDA)
                return new GeneratorState(cpu, null, 0);
            var index = Math.Max(device.index, 0);
            return new GeneratorState(cpu, detached.Detach(cuda.get_rng_state(index)), index);
        }

        public void Restore()
        {
            set_rng_state(_cpu);
            if (_cuda is not null)
                cuda.set_rng_state(_cuda, _cudaIndex);
        }

        public void Dispose()
        {
            _cpu.Dispose();
            _cuda?.Dispose();
        }
    }
}
