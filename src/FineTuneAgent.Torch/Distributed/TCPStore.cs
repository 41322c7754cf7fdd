using System.Runtime.InteropServices;
using System.Text;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class distributed
    {
        /// <summary>
        /// c10d's TCP key-value store (torch.distributed.TCPStore): the rendezvous through which the
        /// ranks of a process group find each other. The master listens on host_name:port (port 0
        /// picks a free port; read it back from <see cref="port"/>), the others connect to it.
        /// With a world size and wait_for_workers, the master's constructor blocks until every
        /// rank has connected, up to <paramref name="timeout"/>; so a master that must announce a
        /// picked port first passes wait_for_workers: false.
        /// </summary>
        public sealed class TCPStore : IDisposable
        {
            /// <summary>PyTorch's default store timeout (300 s).</summary>
            public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

            private int _groups;

            public TCPStore(string host_name, int port, int? world_size = null, bool is_master = false, TimeSpan? timeout = null, bool wait_for_workers = true)
            {
                ArgumentNullException.ThrowIfNull(host_name);
                this.timeout = timeout ?? DefaultTimeout;
                Status.Check(DistributedInterop.fta_dist_tcpstore_new(host_name, port, world_size ?? -1, is_master ? 1 : 0,
                    Milliseconds(this.timeout, nameof(timeout)), wait_for_workers ? 1 : 0, out var h));
                Handle = new StoreHandle(h);
                Status.Check(DistributedInterop.fta_dist_tcpstore_port(Handle, out var actual));
                host = host_name;
                this.port = actual;
                this.is_master = is_master;
            }

            public string host { get; }

            /// <summary>The port the master listens on: the one it picked when asked for port 0.</summary>
            public int port { get; }

            public bool is_master { get; }

            /// <summary>How long get and wait block for a key that is not set yet.</summary>
            public TimeSpan timeout { get; }

            internal StoreHandle Handle { get; }

            public void set(string key, byte[] value)
            {
                ArgumentNullException.ThrowIfNull(key);
                ArgumentNullException.ThrowIfNull(value);
                unsafe
                {
                    fixed (byte* p = value)
                        Status.Check(DistributedInterop.fta_dist_store_set(Handle, key, p, value.Length));
                }
            }

            /// <summary>Stores value as UTF-8, as PyTorch does for a str.</summary>
            public void set(string key, string value) => set(key, Encoding.UTF8.GetBytes(value));

            /// <summary>The value under key, waiting up to <see cref="timeout"/> for it to be set.</summary>
            public byte[] get(string key)
            {
                ArgumentNullException.ThrowIfNull(key);
                unsafe
                {
                    Status.Check(DistributedInterop.fta_dist_store_get(Handle, key, out var data, out var length));
                    return new ReadOnlySpan<byte>(data, checked((int)length)).ToArray();
                }
            }

            /// <summary>Adds amount to the counter under key (a missing key counts as 0) and returns the new value.</summary>
            public long add(string key, long amount)
            {
                ArgumentNullException.ThrowIfNull(key);
                Status.Check(DistributedInterop.fta_dist_store_add(Handle, key, amount, out var result));
                return result;
            }

            /// <summary>Blocks until every key is set, up to timeout (default: the store's).</summary>
            public void wait(IReadOnlyList<string> keys, TimeSpan? timeout = null)
            {
                ArgumentNullException.ThrowIfNull(keys);
                var ms = timeout is { } t ? Milliseconds(t, nameof(timeout)) : 0;
                var utf8 = new IntPtr[keys.Count];
                try
                {
                    for (var i = 0; i < keys.Count; i++)
                        utf8[i] = Marshal.StringToCoTaskMemUTF8(keys[i] ?? throw new ArgumentException($"key {i} is null", nameof(keys)));
                    unsafe
                    {
                        fixed (IntPtr* p = utf8)
                            Status.Check(DistributedInterop.fta_dist_store_wait(Handle, p, utf8.Length, ms));
                    }
                }
                finally
                {
                    foreach (var p in utf8)
                        Marshal.FreeCoTaskMem(p);
                }
            }

            public bool delete_key(string key)
            {
                ArgumentNullException.ThrowIfNull(key);
                Status.Check(DistributedInterop.fta_dist_store_delete_key(Handle, key, out var deleted));
                return deleted != 0;
            }

            public long num_keys()
            {
                Status.Check(DistributedInterop.fta_dist_store_num_keys(Handle, out var n));
                return n;
            }

            /// <summary>
            /// Closes this process's end of the store (the master stops serving it). Process
            /// groups created on it keep their own reference and go on working.
            /// </summary>
            public void Dispose() => Handle.Dispose();

            /// <summary>
            /// The key prefix of the next unnamed group made on this store: "group_1", "group_2", …
            /// The same on every rank as long as every rank creates its groups in the same order,
            /// which c10d requires anyway.
            /// </summary>
            internal string NextGroupName() => $"group_{Interlocked.Increment(ref _groups)}";
        }
    }
}
