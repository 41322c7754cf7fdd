using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Layers;

/// <summary>
/// Keys and values of past positions per layer, (B, kv_heads, T, head_dim) each, so that
/// generation computes only the new token. The cache owns its tensors.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly (Tensor k, Tensor v)?[] _layers;

    public KvCache(int layers)
    {
        _layers = new (Tensor, Tensor)?[layers];
    }

    /// <summary>Positions already cached (T of layer 0).</summary>
    public long Length => _layers[0] is { } l ? l.k.size(2) : 0;

    /// <summary>Appends the new keys and values and returns the whole cached sequence (owned by the cache).</summary>
    public (Tensor k, Tensor v) Update(int layer, Tensor k, Tensor v)
    {
        if (_layers[layer] is not { } old)
        {
            var entry = (k.alias().DetachFromDisposeScope(), v.alias().DetachFromDisposeScope());
            _layers[layer] = entry;
            return entry;
        }
        var nk = cat([old.k, k], 2).DetachFromDisposeScope();
        var nv = cat([old.v, v], 2).DetachFromDisposeScope();
        old.k.Dispose();
        old.v.Dispose();
        _layers[layer] = (nk, nv);
        return (nk, nv);
    }

    public void Dispose()
    {
        for (var i = 0; i < _layers.Length; i++)
        {
            if (_layers[i] is { } l)
            {
                l.k.Dispose();
                l.v.Dispose();
            }
            _layers[i] = null;
        }
    }
}
