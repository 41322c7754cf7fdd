using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Modules;

/// <summary>A lookup table of num_embeddings rows, initialised N(0, 1) as PyTorch's nn.Embedding.</summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, Device? device = null, ScalarType? dtype = null) : base(nameof(Embedding))
    {
        if (padding_idx is { } p && (p < -num_embeddings || p >= num_embeddings))
            throw new ArgumentOutOfRangeException(nameof(padding_idx), p, "padding_idx must be within num_embeddings");
        this.padding_idx = padding_idx is { } q && q < 0 ? q + num_embeddings : padding_idx;
        weight = new Parameter(empty([num_embeddings, embedding_dim], dtype, device));
        nn.init.normal_(weight);
        if (this.padding_idx is { } row && !nn.init.skipping)
        {
            using var _ = no_grad();
            using var r = weight[row];
            r.zero_();
        }
        register_parameter("weight", weight);
    }

    public long? padding_idx { get; }

    public Parameter weight { get; }

    public override Tensor forward(Tensor input) => nn.functional.embedding(input, weight, padding_idx);
}
