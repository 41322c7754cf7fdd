using FineTuneAgent.Torch.Interop;
using static FineTuneAgent.Torch.torch;
using static FineTuneAgent.Torch.torch.optim;

namespace FineTuneAgent.Torch.Modules;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.</summary>
public sealed class SGD : Optimizer
{
    private readonly bool _nesterov;
    private readonly bool _maximize;

    internal SGD(IEnumerable<ParamGroup> groups, double lr, double momentum, double dampening, double weight_decay, bool nesterov, bool maximize)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Invalid learning rate");
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Invalid momentum value");
        if (weight_decay < 0) throw new ArgumentOutOfRangeException(nameof(weight_decay), weight_decay, "Invalid weight_decay value");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        _nesterov = nesterov;
        _maximize = maximize;
        var defaults = new Dictionary<string, double> { ["lr"] = lr, ["momentum"] = momentum, ["dampening"] = dampening, ["weight_decay"] = weight_decay };
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
            var bufs = batch.Parameters
                .Select(p => State.TryGetValue(p, out var s) && s.Tensors.TryGetValue("momentum_buffer", out var b) ? b : null)
                .ToList();
            using var hp = new HandleArray(batch.Parameters);
            using var hg = new HandleArray(batch.Grads);
            using var hb = new HandleArray(bufs);
            var created = new IntPtr[batch.Count];
            var o = group.Options;
            fixed (IntPtr* pp = hp.Pointers, pg = hg.Pointers, pb = hb.Pointers, pc = created)
            {
                Status.Check(OptimInterop.fta_optim_sgd_step(pp, pg, pb, batch.Count, o["lr"], o["momentum"], o["dampening"], o["weight_decay"],
                    _nesterov ? 1 : 0, _maximize ? 1 : 0, pc));
            }
            for (var i = 0; i < batch.Count; i++)
            {
                var s = StateOf(batch.Parameters[i]);
                s.Step++;
                if (created[i] != IntPtr.Zero)
                    s.Tensors["momentum_buffer"] = new Tensor(created[i]).DetachFromDisposeScope();
            }
        }
    }
}
