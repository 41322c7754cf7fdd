using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class optim
    {
        public static AdamW AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false, bool fused = true) =>
            new([new ParamGroup(parameters)], lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, fused);

        public static AdamW AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
            double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false, bool fused = true) =>
            new(groups, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, fused);

        public static SGD SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
            bool nesterov = false, bool maximize = false) =>
            new([new ParamGroup(parameters)], lr, momentum, dampening, weight_decay, nesterov, maximize);

        public static SGD SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
            bool nesterov = false, bool maximize = false) =>
            new(groups, lr, momentum, dampening, weight_decay, nesterov, maximize);
    }
}
