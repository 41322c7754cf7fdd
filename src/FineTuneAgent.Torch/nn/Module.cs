using System.Reflection;
using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// A module owns its parameters, buffers and child modules and disposes them. Names follow
        /// PyTorch (`layers.0.self_attn.q_proj.weight`), so state dicts match checkpoints.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly OrderedDictionary<string, Parameter?> _parameters = new();
            private readonly OrderedDictionary<string, Tensor?> _buffers = new();
            private readonly HashSet<string> _nonPersistent = new();
            private readonly OrderedDictionary<string, Module> _modules = new();
            private bool _disposed;

            protected Module(string name)
            {
                this.name = name;
            }

            public string name { get; }

            public string GetName() => name;

            public bool training { get; private set; } = true;

            public void register_parameter(string name, Parameter? parameter)
            {
                CheckName(name);
                _parameters[name] = parameter;
            }

            /// <summary>Registers a buffer (moved with the module, saved in the state dict unless not persistent).</summary>
            public void register_buffer(string name, Tensor? tensor, bool persistent = true)
            {
                CheckName(name);
                tensor?.DetachFromDisposeScope();
                _buffers[name] = tensor;
                if (!persistent)
                    _nonPersistent.Add(name);
            }

            /// <summary>
            /// Unregisters a parameter without disposing it and returns it (null when absent), so
            /// another module can take it over: a LoRA linear keeps its base layer's weight under
            /// the checkpoint name `weight`.
            /// </summary>
            public Parameter? release_parameter(string name) =>
                _parameters.Remove(name, out var p) ? p : null;

            /// <summary>Unregisters a buffer without disposing it and returns it (null when absent).</summary>
            public Tensor? release_buffer(string name)
            {
                _nonPersistent.Remove(name);
                return _buffers.Remove(name, out var b) ? b : null;
            }

            /// <summary>Whether a buffer is registered as non-persistent (left out of the state dict).</summary>
            public bool is_persistent_buffer(string name) => _buffers.ContainsKey(name) && !_nonPersistent.Contains(name);

            public void register_module(string name, Module module)
            {
                CheckName(name);
                _modules[name] = module;
            }

            private static void CheckName(string name)
            {
                if (string.IsNullOrEmpty(name) || name.Contains('.'))
                    throw new ArgumentException($"invalid module member name '{name}': must be non-empty and contain no '.'", nameof(name));
            }

            /// <summary>
            /// Registers every field of type Parameter, Module or (buffer) Tensor under its field
            /// name, stripping a leading underscore, as TorchSharp's RegisterComponents does.
            /// </summary>
            protected void RegisterComponents()
            {
                for (var type = GetType(); type is not null && type != typeof(Module); type = type.BaseType)
                {
                    foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    {
                        var fieldName = field.Name.TrimStart('_');
                        if (fieldName.Contains('<'))
                            fieldName = field.Name[1..field.Name.IndexOf('>')];
                        switch (field.GetValue(this))
                        {
                            case Parameter p when !_parameters.ContainsKey(fieldName):
                                register_parameter(fieldName, p);
                                break;
                            case Module m when !_modules.ContainsKey(fieldName):
                                register_module(fieldName, m);
                                break;
                        }
                    }
                }
            }

            public IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true)
            {
                foreach (var (n, p) in _parameters)
                    if (p is not null)
                        yield return (n, p);
                if (!recurse)
                    yield break;
                foreach (var (childName, child) in _modules)
                    foreach (var (n, p) in child.named_parameters(true))
                        yield return ($"{childName}.{n}", p);
            }

            public IEnumerable<Parameter> parameters(bool recurse = true) => named_parameters(recurse).Select(x => x.parameter);

            public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true) => NamedBuffers(recurse, persistentOnly: false);

            public IEnumerable<Tensor> buffers(bool recurse = true) => named_buffers(recurse).Select(x => x.buffer);

            private IEnumerable<(string name, Tensor buffer)> NamedBuffers(bool recurse, bool persistentOnly)
            {
                foreach (var (n, b) in _buffers)
                    if (b is not null && (!persistentOnly || !_nonPersistent.Contains(n)))
                        yield return (n, b);
                if (!recurse)
                    yield break;
                foreach (var (childName, child) in _modules)
                    foreach (var (n, b) in child.NamedBuffers(true, persistentOnly))
                        yield return ($"{childName}.{n}", b);
            }

            public IEnumerable<(string name, Module module)> named_children() => _modules.Select(kv => (kv.Key, kv.Value));

            public IEnumerable<Module> children() => _modules.Values;

            /// <summary>This module (name "") and every descendant, depth first.</summary>
            public IEnumerable<(string name, Module module)> named_modules()
            {
                yield return ("", this);
                foreach (var (childName, child) in _modules)
                    foreach (var (n, m) in child.named_modules())
                        yield return (n.Length == 0 ? childName : $"{childName}.{n}", m);
            }

            public IEnumerable<Module> modules() => named_modules().Select(x => x.module);

            /// <summary>Replaces a direct child (e.g. a Linear by a LoRA linear) and returns the old one.</summary>
            public Module replace_module(string name, Module module)
            {
                if (!_modules.TryGetValue(name, out var old))
                    throw new KeyNotFoundException($"module '{this.name}' has no child '{name}'");
                _modules[name] = module;
                return old;
            }

            public Module train(bool mode = true)
            {
                foreach (var m in modules())
                    m.training = mode;
                return this;
            }

            public Module eval() => train(false);

            public Module to(ScalarType dtype) => Apply(t => t.is_floating_point() ? t.to_type(dtype) : null);

            public Module to(Device device) => Apply(t => t.to(device));

            public Module to(Device device, ScalarType dtype) => Apply(t => t.is_floating_point() ? t.to(device, dtype) : t.to(device));

            /// <summary>Converts every parameter and buffer in place (identity kept, as `param.data = fn(param)`).</summary>
            private Module Apply(Func<Tensor, Tensor?> convert)
            {
                using var _ = no_grad();
                foreach (var t in parameters().Cast<Tensor>().Concat(buffers()))
                {
                    using var converted = convert(t);
                    if (converted is not null)
                        t.set_(converted);
                }
                return this;
            }

            /// <summary>
            /// Persistent parameters and buffers by full name. The tensors are the module's own:
            /// do not dispose them.
            /// </summary>
            public Dictionary<string, Tensor> state_dict()
            {
                var result = new Dictionary<string, Tensor>();
                foreach (var (n, p) in named_parameters())
                    result[n] = p;
                foreach (var (n, b) in NamedBuffers(true, persistentOnly: true))
                    result[n] = b;
                return result;
            }

            /// <summary>
            /// Copies values into the module's tensors. With strict, a missing or unexpected key or
            /// a shape mismatch is an error listing every offending name; otherwise the lists are
            /// returned. Values are converted to each tensor's dtype and device.
            /// </summary>
            public (IList<string> missing_keys, IList<string> unexpected_keys) load_state_dict(IReadOnlyDictionary<string, Tensor> source, bool strict = true)
            {
                var own = state_dict();
                var missing = own.Keys.Where(k => !source.ContainsKey(k)).ToList();
                var unexpected = source.Keys.Where(k => !own.ContainsKey(k)).ToList();
                var mismatched = own.Where(kv => source.TryGetValue(kv.Key, out var s) && !s.shape.SequenceEqual(kv.Value.shape))
                    .Select(kv => $"{kv.Key}: checkpoint [{string.Join(", ", source[kv.Key].shape)}] vs model [{string.Join(", ", kv.Value.shape)}]")
                    .ToList();
                if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
                {
                    var lines = new List<string>();
                    if (missing.Count > 0) lines.Add("missing keys: " + string.Join(", ", missing));
                    if (unexpected.Count > 0) lines.Add("unexpected keys: " + string.Join(", ", unexpected));
                    if (mismatched.Count > 0) lines.Add("shape mismatches: " + string.Join("; ", mismatched));
                    throw new ArgumentException($"error loading state dict into {name}:\n  " + string.Join("\n  ", lines));
                }
                using (no_grad())
                {
                    foreach (var (key, target) in own)
                        if (source.TryGetValue(key, out var value))
                            target.copy_(value);
                }
                return (missing, unexpected);
            }

            /// <summary>Clears (set_to_none) or zeroes every parameter's gradient.</summary>
            public void zero_grad(bool set_to_none = true)
            {
                foreach (var p in parameters())
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

            public void Dispose()
            {
                Dispose(true);
                GC.SuppressFinalize(this);
            }

            protected virtual void Dispose(bool disposing)
            {
                if (_disposed || !disposing)
                    return;
                _disposed = true;
                foreach (var m in _modules.Values)
                    m.Dispose();
                foreach (var p in _parameters.Values)
                    p?.Dispose();
                foreach (var b in _buffers.Values)
                    b?.Dispose();
            }
        }

        /// <summary>A module with a typed forward, called as <c>module.call(x)</c> or <c>module.forward(x)</c>.</summary>
        public abstract class Module<T, TResult>(string name) : Module(name)
        {
            public abstract TResult forward(T input);

            public TResult call(T input) => forward(input);
        }

        public abstract class Module<T1, T2, TResult>(string name) : Module(name)
        {
            public abstract TResult forward(T1 input1, T2 input2);

            public TResult call(T1 input1, T2 input2) => forward(input1, input2);
        }

        public static Linear Linear(long inputSize, long outputSize, bool hasBias = true, Device? device = null, ScalarType? dtype = null) =>
            new(inputSize, outputSize, hasBias, device, dtype);

        public static Embedding Embedding(long num_embeddings, long embedding_dims, long? padding_idx = null, Device? device = null, ScalarType? dtype = null) =>
            new(num_embeddings, embedding_dims, padding_idx, device, dtype);

        public static Dropout Dropout(double p = 0.5) => new(p);

        public static ModuleList<T> ModuleList<T>(params T[] modules) where T : Module => new(modules);
    }
}
