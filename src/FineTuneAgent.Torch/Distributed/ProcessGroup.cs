using System.Runtime.InteropServices;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class distributed
    {
        /// <summary>
        /// A c10d process group: a fixed set of ranks that run collectives together. Every
        /// collective here is synchronous (PyTorch's async_op=False): it returns when the result
        /// is in the caller's tensors, and throws <see cref="TorchDistributedException"/> when a
        /// peer goes away or does not take part within the group's timeout. Every rank must
        /// call the same collectives in the same order with tensors of the same shapes and dtypes.
        /// Create one with <see cref="new_group_gloo"/>, <see cref="new_group_nccl"/> or
        /// <see cref="init_process_group(string, TCPStore, int, int, TimeSpan?)"/>.
        /// </summary>
        public sealed class ProcessGroup : IDisposable
        {
            private readonly ProcessGroupHandle _handle;
            private readonly int _rank;
            private readonly int _size;

            internal ProcessGroup(IntPtr handle, string name, TimeSpan timeout)
            {
                _handle = new ProcessGroupHandle(handle);
                Status.Check(DistributedInterop.fta_dist_group_rank(_handle, out _rank));
                Status.Check(DistributedInterop.fta_dist_group_size(_handle, out _size));
                Status.Check(DistributedInterop.fta_dist_group_backend(_handle, out var backend));
                this.backend = Marshal.PtrToStringUTF8(backend) ?? "";
                group_name = name;
                this.timeout = timeout;
            }

            /// <summary>This process's rank in the group, 0 ≤ rank &lt; size.</summary>
            public int rank() => _rank;

            /// <summary>The number of ranks in the group (the world size).</summary>
            public int size() => _size;

            /// <summary>"gloo" or "nccl".</summary>
            public string backend { get; }

            /// <summary>The prefix under which the group's rendezvous keys live in its store.</summary>
            public string group_name { get; }

            /// <summary>How long rendezvous and each collective may wait for the other ranks.</summary>
            public TimeSpan timeout { get; }

            /// <summary>Reduces tensor across the group, in place, with op.</summary>
            public void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
            {
                ArgumentNullException.ThrowIfNull(tensor);
                all_reduce([tensor], op);
            }

            /// <summary>
            /// Reduces each tensor across the group, in place, with op, as if all_reduce ran once
            /// per tensor. Tensors sharing a dtype and device travel in one flat buffer, one
            /// collective per bucket (as DDP does with gradients).
            /// </summary>
            public unsafe void all_reduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
            {
                CheckList(tensors, nameof(tensors));
                using var handles = new HandleArray(tensors);
                fixed (IntPtr* p = handles.Pointers)
                    Status.Check(DistributedInterop.fta_dist_all_reduce(_handle, p, tensors.Count, (int)op));
            }

            /// <summary>Copies rank src's tensor into tensor on every other rank.</summary>
            public void broadcast(Tensor tensor, int src)
            {
                ArgumentNullException.ThrowIfNull(tensor);
                broadcast([tensor], src);
            }

            /// <summary>Copies rank src's tensors into the same tensors on every other rank.</summary>
            public unsafe void broadcast(IReadOnlyList<Tensor> tensors, int src)
            {
                CheckList(tensors, nameof(tensors));
                using var handles = new HandleArray(tensors);
                fixed (IntPtr* p = handles.Pointers)
                    Status.Check(DistributedInterop.fta_dist_broadcast(_handle, p, tensors.Count, src));
            }

            /// <summary>
            /// Gathers tensor from every rank into tensor_list[r] (PyTorch's argument order):
            /// size() tensors, each with tensor's shape, dtype and device.
            /// </summary>
            public unsafe void all_gather(IReadOnlyList<Tensor> tensor_list, Tensor tensor)
            {
                ArgumentNullException.ThrowIfNull(tensor);
                CheckList(tensor_list, nameof(tensor_list));
                using var handles = new HandleArray(tensor_list);
                fixed (IntPtr* p = handles.Pointers)
                    Status.Check(DistributedInterop.fta_dist_all_gather(_handle, tensor.NativeHandle, p, tensor_list.Count));
            }

            /// <summary>Gathers tensor from every rank into new tensors, one per rank, in rank order; the caller owns them.</summary>
            public Tensor[] all_gather(Tensor tensor)
            {
                ArgumentNullException.ThrowIfNull(tensor);
                var outputs = new Tensor[_size];
                try
                {
                    for (var r = 0; r < _size; r++)
                        outputs[r] = empty_like(tensor);
                    all_gather(outputs, tensor);
                    return outputs;
                }
                catch
                {
                    foreach (var t in outputs)
                        t?.Dispose();
                    throw;
                }
            }

            /// <summary>Returns once every rank of the group has called barrier.</summary>
            public void barrier() => Status.Check(DistributedInterop.fta_dist_barrier(_handle));

            /// <summary>Leaves the group. Waits for an operation still in flight to finish or time out.</summary>
            public void Dispose() => _handle.Dispose();

            public override string ToString() => $"ProcessGroup({backend}, rank {_rank} of {_size}, '{group_name}')";

            private static void CheckList(IReadOnlyList<Tensor> tensors, string name)
            {
                ArgumentNullException.ThrowIfNull(tensors, name);
                for (var i = 0; i < tensors.Count; i++)
                    if (tensors[i] is null)
                        throw new ArgumentException($"tensor {i} of the list is null", name);
            }
        }
    }
}
