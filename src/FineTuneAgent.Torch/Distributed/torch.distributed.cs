using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>
    /// torch.distributed over libtorch's c10d: a <see cref="TCPStore"/> rendezvous, Gloo (CPU) and
    /// NCCL (CUDA builds) process groups, and the collectives of data-parallel training. As in
    /// PyTorch, the module-level functions act on the default group that
    /// <see cref="init_process_group(string, TCPStore, int, int, TimeSpan?)"/> creates, or on the
    /// group passed to them. Failures of the rendezvous or of a collective (a timeout, a lost
    /// peer) throw <see cref="TorchDistributedException"/>; the process survives them.
    /// </summary>
    public static partial class distributed
    {
        /// <summary>PyTorch's default process-group timeout (30 minutes).</summary>
        public static readonly TimeSpan default_pg_timeout = TimeSpan.FromMinutes(30);

        /// <summary>The backend names init_process_group accepts (torch.distributed.Backend).</summary>
        public static class Backend
        {
            public const string GLOO = "gloo";
            public const string NCCL = "nccl";
        }

        private static readonly Lock DefaultGate = new();
        private static ProcessGroup? _default;

        public static bool is_available() => true;

        public static bool is_gloo_available() => Features().gloo;

        /// <summary>True when the shim was built against a CUDA libtorch with NCCL (TORCH_DIR).</summary>
        public static bool is_nccl_available() => Features().nccl;

        /// <summary>
        /// Joins a Gloo process group of world_size ranks that meet through store. Blocks until every
        /// rank has joined or timeout (default 30 min) passes; the timeout also bounds every later
        /// collective. The group listens on interface_name when given (e.g. "eth0"), else on the
        /// address hostname resolves to (default loopback: pass this machine's address for a
        /// multi-machine group). group_name keeps the group's rendezvous keys apart from other
        /// groups on the same store; by default groups are numbered in creation order.
        /// </summary>
        public static ProcessGroup new_group_gloo(TCPStore store, int rank, int world_size, TimeSpan? timeout = null,
            string hostname = "127.0.0.1", string? interface_name = null, string? group_name = null)
        {
            ArgumentNullException.ThrowIfNull(store);
            var t = timeout ?? default_pg_timeout;
            var name = group_name ?? store.NextGroupName();
            Status.Check(DistributedInterop.fta_dist_gloo_new(store.Handle, name, rank, world_size, Milliseconds(t, nameof(timeout)),
                hostname, interface_name, out var h));
            return new ProcessGroup(h, name, t);
        }

        /// <summary>
        /// Joins an NCCL process group (CUDA tensors). Needs a shim built against a CUDA libtorch
        /// (<see cref="is_nccl_available"/>); otherwise throws <see cref="TorchNotSupportedException"/>.
        /// </summary>
        public static ProcessGroup new_group_nccl(TCPStore store, int rank, int world_size, TimeSpan? timeout = null, string? group_name = null)
        {
            ArgumentNullException.ThrowIfNull(store);
            var t = timeout ?? default_pg_timeout;
            var name = group_name ?? store.NextGroupName();
            Status.Check(DistributedInterop.fta_dist_nccl_new(store.Handle, name, rank, world_size, Milliseconds(t, nameof(timeout)), out var h));
            return new ProcessGroup(h, name, t);
        }

        /// <summary>
        /// Creates the default process group, as torch.distributed.init_process_group(backend,
        /// store=store, rank=rank, world_size=world_size, timeout=timeout) does ("gloo" listens on
        /// the interface named by GLOO_SOCKET_IFNAME when set, else on loopback).
        /// </summary>
        public static ProcessGroup init_process_group(string backend, TCPStore store, int rank, int world_size, TimeSpan? timeout = null)
        {
            ArgumentNullException.ThrowIfNull(backend);
            lock (DefaultGate)
            {
                if (_default is not null)
                    throw new InvalidOperationException("trying to initialize the default process group twice!");
                _default = backend.ToLowerInvariant() switch
                {
                    Backend.GLOO => new_group_gloo(store, rank, world_size, timeout,
                        interface_name: NullIfEmpty(Environment.GetEnvironmentVariable("GLOO_SOCKET_IFNAME")), group_name: "default_pg"),
                    Backend.NCCL => new_group_nccl(store, rank, world_size, timeout, group_name: "default_pg"),
                    _ => throw new ArgumentException($"unknown backend '{backend}': use \"gloo\" or \"nccl\"", nameof(backend)),
                };
                return _default;
            }
        }

        public static bool is_initialized()
        {
            lock (DefaultGate)
                return _default is not null;
        }

        /// <summary>Leaves group, or the default group (which is then uninitialized) when group is null.</summary>
        public static void destroy_process_group(ProcessGroup? group = null)
        {
            if (group is not null)
            {
                lock (DefaultGate)
                {
                    if (ReferenceEquals(group, _default))
                        _default = null;
                }
                group.Dispose();
                return;
            }
            ProcessGroup? previous;
            lock (DefaultGate)
            {
                previous = _default;
                _default = null;
            }
            previous?.Dispose();
        }

        public static int get_rank(ProcessGroup? group = null) => Group(group).rank();

        public static int get_world_size(ProcessGroup? group = null) => Group(group).size();

        public static void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.Sum, ProcessGroup? group = null) => Group(group).all_reduce(tensor, op);

        public static void all_reduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum, ProcessGroup? group = null) => Group(group).all_reduce(tensors, op);

        public static void broadcast(Tensor tensor, int src, ProcessGroup? group = null) => Group(group).broadcast(tensor, src);

        public static void broadcast(IReadOnlyList<Tensor> tensors, int src, ProcessGroup? group = null) => Group(group).broadcast(tensors, src);

        public static void all_gather(IReadOnlyList<Tensor> tensor_list, Tensor tensor, ProcessGroup? group = null) => Group(group).all_gather(tensor_list, tensor);

        public static void barrier(ProcessGroup? group = null) => Group(group).barrier();

        private static ProcessGroup Group(ProcessGroup? group)
        {
            if (group is not null)
                return group;
            lock (DefaultGate)
                return _default ?? throw new InvalidOperationException(
                    "Default process group has not been initialized, please make sure to call init_process_group.");
        }

        internal static long Milliseconds(TimeSpan timeout, string name)
        {
            var ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
            if (ms <= 0)
                throw new ArgumentOutOfRangeException(name, timeout, "timeout must be positive");
            return ms;
        }

        private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

        private static (bool gloo, bool nccl) Features()
        {
            Status.Check(RuntimeInterop.fta_runtime_build_features(out _, out var gloo, out var nccl));
            return (gloo != 0, nccl != 0);
        }
    }
}
