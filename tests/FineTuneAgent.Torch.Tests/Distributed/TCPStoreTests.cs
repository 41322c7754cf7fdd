using System.Text;
using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Torch.Tests.Distributed;

public sealed class TCPStoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void TCPStore_MasterOnPortZero_ReportsThePortItPicked()
    {
        using var master = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: Timeout);
        Assert.InRange(master.port, 1, 65535);
        Assert.True(master.is_master);
        Assert.Equal("127.0.0.1", master.host);
    }

    [Fact]
    public void SetGetAdd_ClientAndMaster_SeeEachOthersValues()
    {
        using var master = new TCPStore("127.0.0.1", 0, world_size: 2, is_master: true, timeout: Timeout, wait_for_workers: false);
        using var client = new TCPStore("127.0.0.1", master.port, world_size: 2, is_master: false, timeout: Timeout, wait_for_workers: false);
        Assert.Equal(master.port, client.port);

        byte[] blob = [0, 1, 2, 255, 0];
        client.set("blob", blob);
        master.set("text", "héllo");
        Assert.Equal(blob, master.get("blob"));
        Assert.Equal("héllo", Encoding.UTF8.GetString(client.get("text")));
        client.set("empty", []);
        Assert.Empty(master.get("empty"));

        Assert.Equal(5, master.add("counter", 5));
        Assert.Equal(3, client.add("counter", -2));
        Assert.Equal("3", Encoding.UTF8.GetString(master.get("counter")));

        client.wait(["blob", "text"], TimeSpan.FromSeconds(1));
        var keys = master.num_keys();
        Assert.True(master.delete_key("blob"));
        Assert.False(master.delete_key("blob"));
        Assert.Equal(keys - 1, master.num_keys());
    }

    [Fact]
    public async Task TCPStore_MasterWaitingForWorkers_ReturnsOnceTheClientJoins()
    {
        var port = DistributedFailureTests.FreePort();
        var master = Task.Run(() => new TCPStore("127.0.0.1", port, world_size: 2, is_master: true, timeout: Timeout, wait_for_workers: true));
        using var client = new TCPStore("127.0.0.1", port, world_size: 2, is_master: false, timeout: Timeout, wait_for_workers: true);
        Assert.True(await Task.WhenAny(master, Task.Delay(Timeout)) == master, "the master did not return after its client joined");
        using var m = await master;
        client.set("k", "v");
        Assert.Equal("v", Encoding.UTF8.GetString(m.get("k")));
    }

    [Fact]
    public void Get_KeyNeverSet_ThrowsDistributedExceptionAfterTheStoreTimeout()
    {
        using var master = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: TimeSpan.FromSeconds(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<TorchDistributedException>(() => master.get("never"));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(15));
        Assert.Contains("never", error.Message, StringComparison.Ordinal);
        Assert.Throws<TorchDistributedException>(() => master.wait(["never"], TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void TCPStore_BadArguments_ThrowArgumentErrors()
    {
        Assert.Throws<TorchArgumentException>(() => new TCPStore("127.0.0.1", 0, is_master: false));
        Assert.Throws<TorchArgumentException>(() => new TCPStore("127.0.0.1", 70000, is_master: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TCPStore("127.0.0.1", 0, is_master: true, timeout: TimeSpan.Zero));
    }
}
