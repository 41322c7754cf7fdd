using FineTuneAgent.Abstractions.Methods;
using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Methods.Lora;

/// <summary>
/// A model with LoRA (or DoRA) adapters on its targeted projections; everything else frozen.
/// Shared by the lora, dora and qlora methods: QLoRA passes a hook that quantizes each base
/// projection before it is wrapped.
/// </summary>
public sealed class LoraAdaptedModel : AdaptedModel
{
    private readonly Dictionary<string, LoraLinear> _layers;

    private LoraAdaptedModel(CausalLM model, LoraSettings settings, Dictionary<string, LoraLinear> layers)
        : base(model, settings)
    {
        _layers = layers;
    }

    public new LoraSettings Settings => (LoraSettings)base.Settings;

    /// <summary>The adapted projections by checkpoint path (`model.layers.0.self_attn.q_proj`).</summary>
    public IReadOnlyDictionary<string, LoraLinear> Layers => _layers;

    public override bool IsMerged => _layers.Values.Any(l => l.IsMerged);

    /// <summary>
    /// Freezes the model and wraps every targeted projection. <paramref name="prepareBase"/>, when
    /// given, replaces each projection's base (targeted or not) after PiSSA has taken its share,
    /// e.g. by a quantized copy; it owns disposing the Linear it replaces.
    /// <paramref name="only"/> restricts wrapping to these paths with these ranks (loading a saved
    /// adapter, whose tensors say which modules it adapts).
    /// </summary>
    public static LoraAdaptedModel Inject(CausalLM model, LoraSettings settings, Func<ProjectionSlot, Linear, nn.Module<Tensor, Tensor>>? prepareBase = null,
        IReadOnlyDictionary<string, int>? only = null)
    {
        foreach (var p in model.parameters())
            p.requires_grad = false;
        var slots = ProjectionSlot.Of(model);
        var targeted = slots.Where(s => only is not null ? only.ContainsKey(s.Name) : settings.Targets.Matches(s.Name)).ToList();
        if (targeted.Count == 0)
            throw new MethodSettingsException(settings.Method, "target_modules",
                $"{settings.Targets.ToJson().ToJsonString()} matches no linear layer of the model (its projections: {string.Join(", ", ProjectionSlot.AttentionProjections.Concat(ProjectionSlot.MlpProjections))}, e.g. {slots.FirstOrDefault()?.Name})");
        if (only is not null && only.Keys.Except(targeted.Select(s => s.Name)).ToList() is { Count: > 0 } unknown)
            throw new ArgumentException($"the adapter adapts modules the model does not have: {string.Join(", ", unknown)}");

        if (only is null && settings.Targets.Names is { } names)
        {
            foreach (var n in names)
            {
                if (n is "lm_head" or "embed_tokens" || n.EndsWith(".lm_head", StringComparison.Ordinal) || n.EndsWith(".embed_tokens", StringComparison.Ordinal))
                    throw new MethodSettingsException(settings.Method, "target_modules", $"\"{n}\": LoRA on the output layer or the embeddings is not supported (train them with the freeze method's freeze_extra_modules)");
                if (!slots.Any(s => s.Name == n || s.Name.EndsWith("." + n, StringComparison.Ordinal)))
                    throw new MethodSettingsException(settings.Method, "target_modules", $"\"{n}\" matches no linear layer of the model (its projections: {string.Join(", ", ProjectionSlot.AttentionProjections.Concat(ProjectionSlot.MlpProjections))})");
            }
        }
        // Checked for every target before anything changes, so a failure leaves the model as it was.
        foreach (var slot in targeted)
        {
            // A plain Linear, or a base loaded already quantized (QLoRA's quantized-base cache).
            if (slot.Module is not (Linear or IFrozenLinear))
                throw new InvalidOperationException($"{slot.Name} is already adapted ({slot.Module.GetType().Name}); adapt a freshly loaded model");
            if (settings.Init == LoraInit.Pissa)
            {
                if (slot.Module is not Linear l)
                    throw new MethodSettingsException(settings.Method, "init_lora_weights", $"PiSSA needs the full-precision weight of {slot.Name}, but the model was loaded quantized; load it in full precision");
                var r = only?[slot.Name] ?? settings.RankFor(slot.Name);
                if (r > Math.Min(l.in_features, l.out_features))
                    throw new MethodSettingsException(settings.Method, settings.RankPattern.Count > 0 ? "rank_pattern" : "r",
                        $"PiSSA rank {r} exceeds {slot.Name}'s smaller dimension {Math.Min(l.in_features, l.out_features)}");
            }
        }

        var layers = new Dictionary<string, LoraLinear>();
        var targetNames = targeted.Select(s => s.Name).ToHashSet();
        foreach (var slot in slots)
        {
            var isTarget = targetNames.Contains(slot.Name);
            if (!isTarget && prepareBase is null)
                continue;
            var rank = only?[slot.Name] ?? settings.RankFor(slot.Name);
            var alpha = settings.AlphaFor(slot.Name);
            var scaling = settings.UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
            nn.Module<Tensor, Tensor> baseLayer;
            (Tensor A, Tensor B)? pissaAB = null;
            switch (slot.Module)
            {
                case Linear linear:
                    pissaAB = isTarget && settings.Init == LoraInit.Pissa ? PissaSplit(linear, rank, scaling) : null;
                    baseLayer = prepareBase?.Invoke(slot, linear) ?? linear;
                    if (!ReferenceEquals(baseLayer, linear))
                        slot.Replace(baseLayer);
                    break;
                case IFrozenLinear:
                    baseLayer = slot.Module; // already quantized when loaded
                    break;
                default:
                    throw new InvalidOperationException($"{slot.Name} is already adapted ({slot.Module.GetType().Name}); adapt a freshly loaded model");
            }
            if (!isTarget)
                continue;
            var lora = new LoraLinear(baseLayer, rank, alpha, settings.UseRsLora, settings.Dropout, settings.UseDora, settings.AdapterDtype);
            using (no_grad())
            {
                switch (settings.Init)
                {
                    case LoraInit.Gaussian:
                        lora.lora_A.weight.normal_(0, 1.0 / rank);
                        break;
                    case LoraInit.Random:
                        nn.init.kaiming_uniform_(lora.lora_B.weight, a: Math.Sqrt(5));
                        break;
                    case LoraInit.Pissa:
                        var (a, b) = pissaAB!.Value;
                        lora.lora_A.weight.copy_(a);
                        lora.lora_B.weight.copy_(b);
                        lora.SetPissaStart(a, b);
                        break;
                }
            }
            lora.ResetMagnitude();
            slot.Replace(lora);
            layers[slot.Name] = lora;
        }
        return new LoraAdaptedModel(model, settings, layers);
    }

    /// <summary>
    /// PiSSA (Meng et al.), as PEFT's pissa_init: W = U S Vh; A = √(S_r/s) Vh_r, B = U_r √(S_r/s);
    /// the base keeps W − s·B A. Returns A and B (fp32, owned by the caller).
    /// </summary>
    private static (Tensor A, Tensor B) PissaSplit(Linear linear, int rank, double scaling)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = linear.weight.to_type(ScalarType.Float32);
        var (u, s, vh) = linalg.svd(w, full_matrices: false);
        var root = s.narrow(0, 0, rank).div(scaling).sqrt();
        var a = root.unsqueeze(1).mul(vh.narrow(0, 0, rank));
        var b = u.narrow(1, 0, rank).mul(root.unsqueeze(0));
        var residual = w.sub(b.mm(a), scaling);
        linear.weight.copy_(residual);
        // Owned by the LoRA layer from here on (SetPissaStart), never by the caller's scope.
        return (a.contiguous().DetachFromDisposeScope(), b.contiguous().DetachFromDisposeScope());
    }

    public override IReadOnlyList<optim.ParamGroup> ParameterGroups(double learningRate, double weightDecay)
    {
        var trainable = TrainableParameters;
        if (Settings.LoraPlusRatio is not { } ratio)
            return ParameterGrouping.DecayAndNoDecay(trainable, learningRate, weightDecay);
        // PEFT's create_loraplus_optimizer: B matrices and 1-D parameters (DoRA magnitudes) get
        // lr·ratio, split by weight decay; everything else (A) the base rate.
        var groupA = new List<Parameter>();
        var groupB = new List<Parameter>();
        var groupBNoDecay = new List<Parameter>();
        foreach (var (name, p) in trainable)
        {
            if (name.Contains("lora_B", StringComparison.Ordinal) || p.dim() == 1)
                (ParameterGrouping.Decays(name) ? groupB : groupBNoDecay).Add(p);
            else
                groupA.Add(p);
        }
        var groups = new List<optim.ParamGroup>();
        if (groupA.Count > 0) groups.Add(new optim.ParamGroup(groupA, learningRate, weightDecay));
        if (groupB.Count > 0) groups.Add(new optim.ParamGroup(groupB, learningRate * ratio, weightDecay));
        if (groupBNoDecay.Count > 0) groups.Add(new optim.ParamGroup(groupBNoDecay, learningRate * ratio, 0));
        return groups;
    }

    public override void Merge()
    {
        foreach (var l in _layers.Values)
            l.Merge();
    }

    public override void Unmerge()
    {
        foreach (var l in _layers.Values)
            l.Unmerge();
    }

    public override void Save(string directory, AdapterSaveOptions options) => PeftAdapter.Save(this, directory, options);
}
