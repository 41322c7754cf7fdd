using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Exports of native/src/distributed_store.cpp (TCPStore) and distributed.cpp (process groups, collectives).</summary>
internal static unsafe partial class DistributedInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;
    private const StringMarshalling Utf8 = StringMarshalling.Utf8;

    // distributed_store.cpp
    [LibraryImport(Lib, StringMarshalling = Utf8)]
    internal static partial int fta_dist_tcpstore_new(string host, int port, int worldSize, int isMaster, long timeoutMs, int waitForWorkers, out IntPtr store);
    [LibraryImport(Lib)] internal static partial int fta_dist_tcpstore_port(StoreHandle store, out int port);
    [LibraryImport(Lib)] internal static partial int fta_dist_store_free(IntPtr store);
    [LibraryImport(Lib, StringMarshalling = Utf8)] internal static partial int fta_dist_store_set(StoreHandle store, string key, byte* data, long length);
    [LibraryImport(Lib, StringMarshalling = Utf8)] internal static partial int fta_dist_store_get(StoreHandle store, string key, out byte* data, out long length);
    [LibraryImport(Lib, StringMarshalling = Utf8)] internal static partial int fta_dist_store_add(StoreHandle store, string key, long amount, out long result);
    [LibraryImport(Lib)] internal static partial int fta_dist_store_wait(StoreHandle store, IntPtr* keys, long n, long timeoutMs);
    [LibraryImport(Lib, StringMarshalling = Utf8)] internal static partial int fta_dist_store_delete_key(StoreHandle store, string key, out int deleted);
    [LibraryImport(Lib)] internal static partial int fta_dist_store_num_keys(StoreHandle store, out long count);

    // distributed.cpp
    [LibraryImport(Lib, StringMarshalling = Utf8)]
    internal static partial int fta_dist_gloo_new(StoreHandle store, string? prefix, int rank, int size, long timeoutMs, string? hostname, string? interfaceName, out IntPtr group);
    [LibraryImport(Lib, StringMarshalling = Utf8)]
    internal static partial int fta_dist_nccl_new(StoreHandle store, string? prefix, int rank, int size, long timeoutMs, out IntPtr group);
    [LibraryImport(Lib)] internal static partial int fta_dist_group_free(IntPtr group);
    [LibraryImport(Lib)] internal static partial int fta_dist_group_rank(ProcessGroupHandle group, out int rank);
    [LibraryImport(Lib)] internal static partial int fta_dist_group_size(ProcessGroupHandle group, out int size);
    [LibraryImport(Lib)] internal static partial int fta_dist_group_backend(ProcessGroupHandle group, out IntPtr name);
    [LibraryImport(Lib)] internal static partial int fta_dist_all_reduce(ProcessGroupHandle group, IntPtr* tensors, long n, int op);
    [LibraryImport(Lib)] internal static partial int fta_dist_broadcast(ProcessGroupHandle group, IntPtr* tensors, long n, int src);
    [LibraryImport(Lib)] internal static partial int fta_dist_all_gather(ProcessGroupHandle group, TensorHandle input, IntPtr* outputs, long n);
    [LibraryImport(Lib)] internal static partial int fta_dist_barrier(ProcessGroupHandle group);
}
