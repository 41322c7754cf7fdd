using FineTuneAgent.Torch.Interop;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.optim;

namespace FineTuneAgent.Torch.Modules;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW: state
/// exp_avg and exp_avg_sq in the parameter's dtype, bias-corrected step. Each group's
/// update runs in one native call; with <c>fused</c> (the default, as torch.optim.AdamW's fused=True) each
/// contiguous float32 CPU parameter is updated in one pass that allocates nothing (native/src/adamw_fused.cpp) and
/// each bfloat16 one by the eager ops 4 Mi elements at a time, both bit for bit the eager ops' result; other
/// parameters take the eager ops over whole tensors, which allocate two temporaries of the parameter's size.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly bool _amsgrad;
    private readonly bool _maximize;
    private readonly bool _fused;

    internal AdamW(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize, bool fused)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Invalid learning rate");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Invalid epsilon value");
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Invalid beta parameter at index 0");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Invalid beta parameter at index 1");
        if (weight_decay < 0) throw new ArgumentOutOfRangeException(nameof(weight_decay), weight_decay, "Invalid weight_decay value");
        _amsgrad = amsgrad;
        _maximize = maximize;
        _fused = fused;
        var defaults = new Dictionary<string, double> { ["lr"] = lr, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["weight_decay"] = weight_decay };
        foreach (var g in groups)
        {
            g.FillDefaults(defaults);
            AddGroup(g);
        }
    }

    public override unsafe void step()
    {
        using var _ = no_grad();
        foreach (var group in ParamGroups)
        {
            using var batch = Gradients(group);
            if (batch.Count == 0)
                continue;
            var avgs = new List<Tensor?>();
            var sqs = new List<Tensor?>();
            var maxSqs = new List<Tensor?>();
            var steps = new long[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var p = batch.Parameters[i];
                var s = StateOf(p);
                if (!s.Tensors.ContainsKey("exp_avg"))
                {
                    s.Tensors["exp_avg"] = zeros_like(p).DetachFromDisposeScope();
                    s.Tensors["exp_avg_sq"] = zeros_like(p).DetachFromDisposeScope();
                    if (_amsgrad)
                        s.Tensors["max_exp_avg_sq"] = zeros_like(p).DetachFromDisposeScope();
                }
                steps[i] = ++s.Step;
                avgs.Add(s.Tensors["exp_avg"]);
                sqs.Add(s.Tensors["exp_avg_sq"]);
                maxSqs.Add(_amsgrad ? s.Tensors["max_exp_avg_sq"] : null);
            }
            using var hp = new HandleArray(batch.Parameters);
            using var hg = new HandleArray(batch.Grads);
            using var ha = new HandleArray(avgs);
            using var hs = new HandleArray(sqs);
            using var hm = new HandleArray(maxSqs);
            var o = group.Options;
            fixed (IntPtr* pp = hp.Pointers, pg = hg.Pointers, pa = ha.Pointers, psq = hs.Pointers, pm = hm.Pointers)
            fixed (long* pst = steps)
            {
                Status.Check(OptimInterop.fta_optim_adamw_step(pp, pg, pa, psq, _amsgrad ? pm : null, pst, batch.Count,
                    o["lr"], o["beta1"], o["beta2"], o["eps"], o["weight_decay"], _amsgrad ? 1 : 0, _maximize ? 1 : 0, _fused ? 1 : 0));
            }
        }
    }
}
