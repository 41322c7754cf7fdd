using static FineTuneAgent.Torch.torch.distributed;

namespace FineTuneAgent.Torch.Tests.Distributed;

/// <summary>Single-process checks of the process-group surface: one-rank groups, the default group, argument errors.</summary>
public sealed class ProcessGroupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void NewGroupGloo_OneRank_CollectivesLeaveValuesAsTheyAre()
    {
        var baseline = LiveCount.Settled();
        using (var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: Timeout))
        using (var pg = new_group_gloo(store, rank: 0, world_size: 1, timeout: Timeout))
        {
            Assert.Equal(0, pg.rank());
            Assert.Equal(1, pg.size());
            Assert.Equal("gloo", pg.backend);
            Assert.Equal("group_1", pg.group_name);
            using var t = tensor(new float[] { 1, -2, 3 });
            pg.all_reduce(t, ReduceOp.Avg);
            pg.broadcast(t, src: 0);
            pg.barrier();
            var gathered = pg.all_gather(t);
            Assert.Single(gathered);
            Assert.Equal([1f, -2f, 3f], gathered[0].data<float>());
            Assert.Equal([1f, -2f, 3f], t.data<float>());
            gathered[0].Dispose();

            // Parameters (leaves that require grad) are written in place outside autograd, as
            // when rank 0's initial weights are broadcast; a list takes the flat-buffer path.
            using var w = ones([2, 2]);
            using var b = zeros([2]);
            w.requires_grad = true; // set here: the factories' requires_grad argument is not applied yet
            b.requires_grad = true;
            pg.broadcast([w, b], src: 0);
            pg.all_reduce([w, b], ReduceOp.Avg);
            Assert.Equal([1f, 1f, 1f, 1f], w.data<float>());
            Assert.True(w.requires_grad);
        }
        Assert.Equal(baseline, LiveCount.Settled());
    }

    [Fact]
    public void InitProcessGroup_Gloo_ModuleFunctionsUseTheDefaultGroupUntilDestroyed()
    {
        Assert.False(is_initialized());
        Assert.Throws<InvalidOperationException>(() => get_rank());
        using var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: Timeout);
        try
        {
            var pg = init_process_group(Backend.GLOO, store, rank: 0, world_size: 1, timeout: Timeout);
            Assert.True(is_initialized());
            Assert.Equal("default_pg", pg.group_name);
            Assert.Equal(0, get_rank());
            Assert.Equal(1, get_world_size());
            Assert.Throws<InvalidOperationException>(() => init_process_group(Backend.GLOO, store, 0, 1, Timeout));
            using var t = tensor(new long[] { 4, 5 });
            all_reduce(t, ReduceOp.Max);
            broadcast([t], src: 0);
            barrier();
            using var o = zeros_like(t);
            all_gather([o], t);
            Assert.Equal([4L, 5L], o.data<long>());
        }
        finally
        {
            destroy_process_group();
        }
        Assert.False(is_initialized());
    }

    [Fact]
    public void Collectives_BadArguments_ThrowArgumentErrors()
    {
        using var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: Timeout);
        Assert.Throws<TorchArgumentException>(() => new_group_gloo(store, rank: 1, world_size: 1, timeout: Timeout));
        using var pg = new_group_gloo(store, rank: 0, world_size: 1, timeout: Timeout);
        using var t = ones([2]);
        using var a = ones([2]);
        using var b = ones([2]);
        using var wrongShape = ones([3]);
        Assert.Throws<TorchArgumentException>(() => pg.all_gather([a, b], t));
        Assert.Throws<TorchArgumentException>(() => pg.all_gather([wrongShape], t));
        Assert.Throws<TorchArgumentException>(() => pg.broadcast(t, src: 1));
        using var flags = ones([2], @bool);
        Assert.Throws<TorchArgumentException>(() => pg.all_reduce(flags, ReduceOp.Avg));
        Assert.Throws<TorchArgumentException>(() => pg.all_reduce(t, (ReduceOp)42));
        Assert.Throws<ArgumentException>(() => init_process_group("mpi", store, 0, 1));
    }

    [Fact]
    public void NewGroupNccl_ShimWithoutNccl_ThrowsNotSupportedSayingHowToGetIt()
    {
        Assert.True(is_gloo_available());
        if (is_nccl_available())
            return; // a CUDA build: nothing to check here
        using var store = new TCPStore("127.0.0.1", 0, world_size: 1, is_master: true, timeout: Timeout);
        var error = Assert.Throws<TorchNotSupportedException>(() => new_group_nccl(store, rank: 0, world_size: 1, timeout: Timeout));
        Assert.Contains("TORCH_DIR", error.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA", error.Message, StringComparison.Ordinal);
    }
}
