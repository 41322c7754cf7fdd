using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>
        /// Base of the optimisers: parameter groups with their own hyper-parameters, and
        /// per-parameter state that can be saved and restored (checkpoint resume).
        /// </summary>
        public abstract class Optimizer : IDisposable
        {
            private readonly List<ParamGroup> _groups = new();
            private readonly Dictionary<Parameter, ParameterState> _state = new(ReferenceEqualityComparer.Instance);

            public IReadOnlyList<ParamGroup> ParamGroups => _groups;

            protected IReadOnlyDictionary<Parameter, ParameterState> State => _state;

            protected void AddGroup(ParamGroup group)
            {
                var seen = _groups.SelectMany(g => g.Parameters).ToHashSet(ReferenceEqualityComparer.Instance);
                if (group.Parameters.Any(seen.Contains))
                    throw new ArgumentException("some parameters appear in more than one parameter group");
                _groups.Add(group);
            }

            protected ParameterState StateOf(Parameter p)
            {
                if (!_state.TryGetValue(p, out var s))
                    _state[p] = s = new ParameterState();
                return s;
            }

            /// <summary>The group's parameters that have a gradient, with those gradients (disposed with the batch).</summary>
            protected static GradientBatch Gradients(ParamGroup group)
            {
                var batch = new GradientBatch();
                foreach (var p in group.Parameters)
                {
                    var g = p.grad;
                    if (g is null)
                        continue;
                    batch.Parameters.Add(p);
                    batch.Grads.Add(g);
                }
                return batch;
            }

            protected sealed class GradientBatch : IDisposable
            {
                public List<Parameter> Parameters { get; } = new();

                public List<Tensor> Grads { get; } = new();

                public int Count => Parameters.Count;

                public void Dispose()
                {
                    foreach (var g in Grads)
                        g.Dispose();
                    Grads.Clear();
                }
            }

            /// <summary>Applies one update to every parameter that has a gradient.</summary>
            public abstract void step();

            public void zero_grad(bool set_to_none = true)
            {
                foreach (var p in _groups.SelectMany(g => g.Parameters))
                {
                    if (set_to_none)
                    {
                        p.grad = null;
                        continue;
                    }
                    using var g = p.grad;
                    g?.zero_();
                }
            }

            /// <summary>
            /// Every state tensor (copies) and step count, keyed "state.{index}.{name}" with
            /// parameters numbered across groups in order, plus each group's hyper-parameters as
            /// "param_groups.{g}.{name}". The caller disposes the tensors (e.g. after saving them).
            /// </summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>();
                var index = 0;
                for (var g = 0; g < _groups.Count; g++)
                {
                    foreach (var (key, value) in _groups[g].Options)
                        result[$"param_groups.{g}.{key}"] = tensor(value, ScalarType.Float64);
                    foreach (var p in _groups[g].Parameters)
                    {
                        if (_state.TryGetValue(p, out var s))
                        {
                            result[$"state.{index}.step"] = tensor<long>([s.Step], []);
                            foreach (var (name, t) in s.Tensors)
                                result[$"state.{index}.{name}"] = t.clone();
                        }
                        index++;
                    }
                }
                return result;
            }

            /// <summary>Restores what state_dict produced; the parameter groups must have the same shape.</summary>
            public void load_state_dict(IReadOnlyDictionary<string, Tensor> source)
            {
                foreach (var key in source.Keys)
                {
                    var parts = key.Split('.', 3);
                    if (parts.Length != 3 || (parts[0] != "state" && parts[0] != "param_groups") || !int.TryParse(parts[1], out _))
                        throw new ArgumentException($"optimizer state has an unrecognised key '{key}'");
                }
                var parameters = _groups.SelectMany(g => g.Parameters).ToList();
                using (no_grad())
                {
                    for (var g = 0; g < _groups.Count; g++)
                        foreach (var key in _groups[g].Options.Keys.ToList())
                            if (source.TryGetValue($"param_groups.{g}.{key}", out var v))
                                _groups[g].Options[key] = v.item<double>();
                    foreach (var s in _state.Values)
                        s.Dispose();
                    _state.Clear();
                    for (var i = 0; i < parameters.Count; i++)
                    {
                        if (!source.TryGetValue($"state.{i}.step", out var step))
                            continue;
                        var s = StateOf(parameters[i]);
                        s.Step = step.item<long>();
                        var prefix = $"state.{i}.";
                        foreach (var (key, value) in source)
                        {
                            if (!key.StartsWith(prefix, StringComparison.Ordinal) || key == prefix + "step")
                                continue;
                            if (!value.shape.SequenceEqual(parameters[i].shape))
                                throw new ArgumentException($"optimizer state '{key}' has shape [{string.Join(", ", value.shape)}], parameter {i} has [{string.Join(", ", parameters[i].shape)}]");
                            var copy = value.to(parameters[i].device, parameters[i].dtype);
                            s.Tensors[key[prefix.Length..]] = copy.DetachFromDisposeScope();
                        }
                    }
                }
            }

            public void Dispose()
            {
                foreach (var s in _state.Values)
                    s.Dispose();
                _state.Clear();
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>Parameters sharing hyper-parameters (lr, weight_decay, …) within one optimiser.</summary>
        public sealed class ParamGroup
        {
            public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? weight_decay = null)
            {
                Parameters = parameters.ToList();
                if (lr is { } l) Options["lr"] = l;
                if (weight_decay is { } w) Options["weight_decay"] = w;
            }

            public IReadOnlyList<Parameter> Parameters { get; }

            /// <summary>Hyper-parameters by PyTorch name; unset ones are filled from the optimiser's defaults.</summary>
            public Dictionary<string, double> Options { get; } = new();

            /// <summary>The group's learning rate, which LR schedulers set each step.</summary>
            public double LearningRate
            {
                get => Options["lr"];
                set => Options["lr"] = value;
            }

            internal void FillDefaults(IReadOnlyDictionary<string, double> defaults)
            {
                foreach (var (k, v) in defaults)
                    Options.TryAdd(k, v);
            }
        }

        /// <summary>One parameter's optimiser state: its step count and named tensors (exp_avg, …).</summary>
        public sealed class ParameterState : IDisposable
        {
            public long Step { get; set; }

            public Dictionary<string, Tensor> Tensors { get; } = new();

            public void Dispose()
            {
                foreach (var t in Tensors.Values)
                    t.Dispose();
                Tensors.Clear();
            }
        }
    }
}
