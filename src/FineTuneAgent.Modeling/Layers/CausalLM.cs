using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// A decoder-only causal language model with HF's Qwen3ForCausalLM / LlamaForCausalLM layout and
/// state-dict names: `model.*` and `lm_head.weight` (absent when the embeddings are tied).
/// </summary>
public sealed class CausalLM : nn.Module
{
    public CausalLM(ModelConfig config, ScalarType? dtype = null, bool initialize = true) : base(nameof(CausalLM))
    {
        Config = config;
        model = new TransformerModel(config, dtype);
        register_module("model", model);
        if (!config.TieWordEmbeddings)
        {
            lm_head = new Linear(config.HiddenSize, config.VocabSize, hasBias: false, dtype: dtype);
            register_module("lm_head", lm_head);
        }
        if (initialize)
            InitializeWeights();
    }

    public ModelConfig Config { get; }

    public TransformerModel model { get; }

    public Linear? lm_head { get; }

    /// <summary>The output projection's weight: lm_head's, or the embeddings' when tied.</summary>
    public Tensor OutputWeight => lm_head?.weight ?? model.embed_tokens.weight;

    /// <summary>Logits (B, S, V) for input ids (B, S); see <see cref="TransformerModel.forward"/> for the rest.</summary>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, Tensor? positionIds = null)
    {
        using var hidden = model.forward(inputIds, attentionMask, cache, positionIds);
        return nn.functional.linear(hidden, OutputWeight);
    }

    /// <summary>
    /// HF's ForCausalLMLoss: token t predicts label t+1, labels -100 ignored, logits upcast to
    /// float32; mean over counted tokens, or sum divided by numItemsInBatch when given (so
    /// gradient accumulation normalises by the whole batch).
    /// </summary>
    public static Tensor CausalLmLoss(Tensor logits, Tensor labels, long? numItemsInBatch = null)
    {
        using var scope = NewDisposeScope();
        var vocab = logits.size(-1);
        var s = labels.size(1);
        var shiftLogits = logits.narrow(1, 0, s - 1).to_type(ScalarType.Float32).reshape(-1, vocab);
        var shiftLabels = labels.narrow(1, 1, s - 1).reshape(-1).to(logits.device);   // labels may be collated on the CPU
        var loss = numItemsInBatch is { } n
            ? nn.functional.cross_entropy(shiftLogits, shiftLabels, ignore_index: -100, reduction: nn.Reduction.Sum) / n
            : nn.functional.cross_entropy(shiftLogits, shiftLabels, ignore_index: -100);
        return scope.MoveToOuter(loss);
    }

    /// <summary>HF's _init_weights: N(0, initializer_range) for linear and embedding weights, zero biases and padding row, ones for norms.</summary>
    public void InitializeWeights()
    {
        using var _ = no_grad();
        var std = Config.InitializerRange;
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                p.fill_(1);
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
                p.zero_();
            else
                p.normal_(0, std);
        }
        if (model.embed_tokens.padding_idx is { } pad)
        {
            using var row = model.embed_tokens.weight[pad];
            row.zero_();
        }
    }
}
