using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Adapters;

/// <summary>
/// A linear layer with a LoRA adapter (Hu et al.), optionally DoRA (Liu et al.), as PEFT computes
/// them: y = base(x) + B(A(dropout(x))) · scaling, or for DoRA
/// y = m ⊙ (W x + s·B A x) / ‖W + s·B A‖_row + bias with the norm detached.
/// The base layer's parameters and buffers are taken over under their own names (`weight`,
/// `bias`), so the wrapped model's state dict still matches the checkpoint, and the adapter's
/// names are PEFT's without the adapter name (`lora_A.weight`, `lora_B.weight`,
/// `lora_magnitude_vector`).
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _base;
    private readonly List<(string Name, bool IsBuffer, bool Persistent)> _takenOver = new();
    private Tensor? _mergedDoraNorm;

    public LoraLinear(nn.Module<Tensor, Tensor> baseLayer, int rank, double alpha, bool useRsLora = false, double dropout = 0, bool useDora = false, ScalarType? adapterDtype = null)
        : base(nameof(LoraLinear))
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be at least 1");
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "LoRA dropout must be in [0, 1)");
        _base = baseLayer;
        (in_features, out_features, var device) = baseLayer switch
        {
            Linear l => (l.in_features, l.out_features, l.weight.device),
            IFrozenLinear f => (f.in_features, f.out_features, baseLayer.buffers().First().device),
            _ => throw new ArgumentException($"LoRA wraps a Linear or a quantized linear, not {baseLayer.GetType().Name}", nameof(baseLayer)),
        };
        Rank = rank;
        Alpha = alpha;
        UseRsLora = useRsLora;
        Scaling = useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
        DropoutProbability = dropout;
        var dtype = adapterDtype ?? ScalarType.Float32;

        // The base layer's tensors become this layer's, frozen; the base keeps references for its forward.
        foreach (var (name, p) in baseLayer.named_parameters(recurse: false).ToList())
        {
            p.requires_grad = false;
            register_parameter(name, baseLayer.release_parameter(name));
            _takenOver.Add((name, false, true));
        }
        foreach (var (name, b) in baseLayer.named_buffers(recurse: false).ToList())
        {
            var persistent = baseLayer.is_persistent_buffer(name);
            register_buffer(name, baseLayer.release_buffer(name), persistent);
            _takenOver.Add((name, true, persistent));
        }

        lora_A = new Linear(in_features, rank, hasBias: false, device: device, dtype: dtype);
        lora_B = new Linear(rank, out_features, hasBias: false, device: device, dtype: dtype);
        using (no_grad())
            lora_B.weight.zero_();
        register_module("lora_A", lora_A);
        register_module("lora_B", lora_B);
        if (useDora)
        {
            lora_magnitude_vector = new Parameter(zeros([out_features], dtype, device));
            register_parameter("lora_magnitude_vector", lora_magnitude_vector);
            ResetMagnitude();
        }
    }

    /// <summary>
    /// DoRA's initial magnitude: m = ‖W + s·B A‖ over each output row, as PEFT computes it when the
    /// adapter is created (with B = 0 that is the base weight's row norms).
    /// </summary>
    public void ResetMagnitude()
    {
        if (lora_magnitude_vector is null)
            return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = BaseWeight(ScalarType.Float32).add(DeltaWeight());
        lora_magnitude_vector.copy_(linalg.vector_norm(w, 2, [1]));
    }

    public long in_features { get; }

    public long out_features { get; }

    public int Rank { get; }

    public double Alpha { get; }

    public bool UseRsLora { get; }

    /// <summary>alpha / r, or alpha / sqrt(r) with rsLoRA.</summary>
    public double Scaling { get; }

    public double DropoutProbability { get; }

    public Linear lora_A { get; }

    public Linear lora_B { get; }

    /// <summary>DoRA's magnitude m, one value per output row; null for plain LoRA.</summary>
    public Parameter? lora_magnitude_vector { get; }

    public bool UseDora => lora_magnitude_vector is not null;

    public bool IsMerged { get; private set; }

    /// <summary>The wrapped layer (its tensors are registered on this module).</summary>
    public nn.Module<Tensor, Tensor> BaseLayer => _base;

    /// <summary>The base weight [out, in] as a new tensor of <paramref name="dtype"/> (dequantized if stored quantized).</summary>
    public Tensor BaseWeight(ScalarType dtype) => _base switch
    {
        Linear l => l.weight.detach().to_type(dtype),
        IFrozenLinear f => f.DequantizeWeight(dtype),
        _ => throw new InvalidOperationException("unreachable"),
    };

    private Tensor? BaseBias => _base switch
    {
        Linear l => l.bias,
        IFrozenLinear f => f.bias,
        _ => null,
    };

    public override Tensor forward(Tensor x)
    {
        var result = _base.forward(x);
        if (IsMerged)
            return result;
        using var scope = NewDisposeScope();
        var adapterDtype = lora_A.weight.dtype;
        var dropping = training && DropoutProbability > 0;
        // Dropout in the input's dtype, then the adapter's (fp32 over a bf16 base, as PEFT casts).
        var xd = dropping ? nn.functional.dropout(x, DropoutProbability, true) : x;
        // Under autocast the adapter's matmuls run in the autocast dtype whatever their input's dtype, so an
        // input already in that dtype goes in as it is: casting it up to the adapter's float32 only for autocast
        // to cast it back is two copies per projection that change no bit (forward or backward).
        var xa = xd.dtype == adapterDtype || AutocastKeeps(xd) ? xd : xd.to_type(adapterDtype);
        Tensor update;
        if (lora_magnitude_vector is null)
        {
            var down = lora_A.forward(xa);
            if (FusedKernels.Enabled && (is_autocast_enabled(result.device.type) || (result.dtype == down.dtype && down.dtype == lora_B.weight.dtype)))
            {
                // result + s·down·Bᵀ as one addmm: the product accumulates onto the base output inside the matmul, where
                // lora_B, · s and + were a product tensor and two passes over the (tokens × out) output each way.
                var combined = result.reshape(-1, out_features).addmm(down.reshape(-1, Rank), lora_B.weight.t(), 1, Scaling).view(result.shape);
                result.Dispose();
                return combined.MoveToOuterDisposeScope();
            }
            update = lora_B.forward(down).mul(Scaling);
        }
        else
        {
            // PEFT's DoraLinearLayer: the norm of W + s·BA with BA detached, then the norm itself
            // detached ("treat ||V + ΔV||_c as a constant", DoRA paper §4.3).
            Tensor norm;
            using (no_grad())
            {
                var weight = BaseWeight(ScalarType.Float32);
                var delta = lora_B.weight.to_type(ScalarType.Float32).mm(lora_A.weight.to_type(ScalarType.Float32));
                norm = linalg.vector_norm(weight.add(delta, Scaling), 2, [1]).to_type(adapterDtype);
            }
            var scale = lora_magnitude_vector.div(norm).view(1, -1);
            var loraResult = lora_B.forward(lora_A.forward(xa));
            // W·x without the bias: PEFT takes result − bias, or F.linear(dropout(x), W) when
            // dropout is active. The second goes through the base layer here, so autograd keeps
            // the base's own (possibly quantized) weight instead of an fp32 copy of W.
            var baseResult = (dropping ? _base.forward(xd) : result).to_type(adapterDtype);
            if (BaseBias is { } b)
                baseResult = baseResult.sub(b.to_type(adapterDtype));
            update = scale.sub(1).mul(baseResult).add(scale.mul(loraResult).mul(Scaling));
        }
        var sum = result.add(update.to_type(result.dtype));
        result.Dispose();
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>Whether autocast is on for x's device and computes in x's dtype (so a matmul casts x to what it is).</summary>
    private static bool AutocastKeeps(Tensor x)
    {
        var type = x.device.type;
        return is_autocast_enabled(type) && get_autocast_dtype(type) == x.dtype;
    }

    /// <summary>ΔW = s·B A, [out, in], as a new fp32 tensor.</summary>
    public Tensor DeltaWeight()
    {
        using var _ = no_grad();
        using var b = lora_B.weight.to_type(ScalarType.Float32);
        using var a = lora_A.weight.to_type(ScalarType.Float32);
        using var ba = b.mm(a);
        return ba.mul(Scaling);
    }

    /// <summary>
    /// Folds the adapter into the base weight: W += ΔW, or for DoRA W = m / ‖W + ΔW‖_row · (W + ΔW)
    /// (the norm is kept to unmerge). A quantized base is dequantized, updated and quantized again.
    /// </summary>
    public void Merge()
    {
        if (IsMerged)
            return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = BaseWeight(ScalarType.Float32);
        var merged = w.add(DeltaWeight());
        Tensor? norm = null;
        if (lora_magnitude_vector is not null)
        {
            norm = linalg.vector_norm(merged, 2, [1]);
            using var factor = lora_magnitude_vector.to_type(ScalarType.Float32).div(norm);
            merged = merged.mul(factor.view(-1, 1));
        }
        WriteBaseWeight(merged);
        // Kept (outside every dispose scope) only once the weight is written, to unmerge exactly.
        _mergedDoraNorm?.Dispose();
        _mergedDoraNorm = norm?.DetachFromDisposeScope();
        IsMerged = true;
    }

    /// <summary>Takes the adapter back out of the base weight (exact up to float rounding).</summary>
    public void Unmerge()
    {
        if (!IsMerged)
            return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = BaseWeight(ScalarType.Float32);
        if (lora_magnitude_vector is not null)
        {
            using var factor = lora_magnitude_vector.to_type(ScalarType.Float32).div(_mergedDoraNorm!);
            w = w.div(factor.view(-1, 1));
        }
        WriteBaseWeight(w.sub(DeltaWeight()));
        _mergedDoraNorm?.Dispose();
        _mergedDoraNorm = null;
        IsMerged = false;
    }

    /// <summary>
    /// PiSSA's starting A and B, kept (as non-persistent buffers, so they move and are disposed with
    /// the layer) to save the adapter as plain LoRA over the original base weight.
    /// </summary>
    public void SetPissaStart(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.shape.SequenceEqual(lora_A.weight.shape) || !b.shape.SequenceEqual(lora_B.weight.shape))
            throw new ArgumentException("PiSSA's start must have the shapes of lora_A and lora_B");
        release_buffer("lora_A_initial")?.Dispose();
        release_buffer("lora_B_initial")?.Dispose();
        register_buffer("lora_A_initial", a, persistent: false);
        register_buffer("lora_B_initial", b, persistent: false);
        PissaStart = (a, b);
    }

    /// <summary>PiSSA's starting A and B (the buffers above), or null when the adapter did not start from PiSSA.</summary>
    public (Tensor A, Tensor B)? PissaStart { get; private set; }

    private void WriteBaseWeight(Tensor weight)
    {
        switch (_base)
        {
            case Linear l:
                l.weight.copy_(weight);
                break;
            case IFrozenLinear f:
                f.RequantizeWeight(weight);
                break;
        }
    }

    /// <summary>
    /// Gives the base layer its tensors back and returns it; the adapter's own tensors are
    /// disposed with this module. Used to unload an adapter (after merging, to keep its effect).
    /// </summary>
    public nn.Module<Tensor, Tensor> Unwrap()
    {
        foreach (var (name, isBuffer, persistent) in _takenOver)
        {
            if (isBuffer)
                _base.register_buffer(name, release_buffer(name), persistent);
            else
                _base.register_parameter(name, release_parameter(name));
        }
        _takenOver.Clear();
        return _base;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _mergedDoraNorm?.Dispose();
            _mergedDoraNorm = null;
        }
        base.Dispose(disposing);
    }
}
