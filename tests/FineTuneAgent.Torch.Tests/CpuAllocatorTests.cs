namespace FineTuneAgent.Torch.Tests;

/// <summary>
/// The shim's caching allocator for large CPU tensors (native/src/cpu_allocator.cpp): blocks of 1 MiB or more are
/// kept when freed and reused by requests of nearly their size; small tensors go to libtorch's own allocator. The
/// assembly runs its tests one at a time, so the counters move only by what each test does.
/// </summary>
public class CpuAllocatorTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void IsActiveByDefault()
    {
        Assert.True(cpu.allocator.is_active());
    }

    [Fact]
    public void FreedBlock_IsReusedByTheNextRequestOfItsSize()
    {
        cpu.allocator.empty_cache();
        var live0 = cpu.allocator.live_bytes();
        var (hits0, resized0, misses0) = cpu.allocator.reuse();

        var first = empty([4 * MiB / 4], ScalarType.Float32);      // 4 MiB
        Assert.Equal(live0 + 4 * MiB, cpu.allocator.live_bytes());
        Assert.Equal((hits0, resized0, misses0 + 1), cpu.allocator.reuse());
        first.Dispose();
        Assert.Equal(live0, cpu.allocator.live_bytes());
        Assert.Equal(4 * MiB, cpu.allocator.cached_bytes());

        // 100 KiB less: the kept block is at most an eighth larger than the request, so it serves it.
        using var second = full([(4 * MiB - 100 * 1024) / 4], 3.5f, ScalarType.Float32);
        Assert.Equal((hits0 + 1, resized0, misses0 + 1), cpu.allocator.reuse());
        Assert.Equal(0, cpu.allocator.cached_bytes());
        Assert.Equal(3.5, second.sum().ToDouble() / second.numel(), 12);
    }

    [Fact]
    public void RequestLargerThanEveryKeptBlock_GrowsTheLargest_AndUnmapsAsMuchIdleMemory()
    {
        cpu.allocator.set_trading(true);   // the default
        try
        {
            cpu.allocator.empty_cache();
            var a = empty([2 * MiB], ScalarType.Byte);
            var b = empty([2 * MiB], ScalarType.Byte);
            a.Dispose();
            b.Dispose();
            Assert.Equal(4 * MiB, cpu.allocator.cached_bytes());
            var (hits0, resized0, misses0) = cpu.allocator.reuse();

            // Half again as large as any kept block: one grows to it (1 MiB more), the other (2 MiB) is unmapped for it.
            using var big = full([3 * MiB], 7, ScalarType.Byte);
            Assert.Equal((hits0, resized0 + 1, misses0), cpu.allocator.reuse());
            Assert.Equal(0, cpu.allocator.cached_bytes());
            Assert.Equal(7.0 * 3 * MiB, big.to_type(ScalarType.Float64).sum().ToDouble());
        }
        finally
        {
            cpu.allocator.set_trading(true);
        }
    }

    [Fact]
    public void RequestMuchSmallerThanAKeptBlock_ShrinksIt()
    {
        cpu.allocator.set_trading(true);   // the default
        try
        {
            cpu.allocator.empty_cache();
            empty([16 * MiB], ScalarType.Byte).Dispose();
            var live0 = cpu.allocator.live_bytes();
            var (hits0, resized0, misses0) = cpu.allocator.reuse();

            using var small = full([2 * MiB], 9, ScalarType.Byte);
            Assert.Equal((hits0, resized0 + 1, misses0), cpu.allocator.reuse());
            Assert.Equal(live0 + 2 * MiB, cpu.allocator.live_bytes());    // the block shrank to the request
            Assert.Equal(0, cpu.allocator.cached_bytes());
            Assert.Equal(9.0 * 2 * MiB, small.to_type(ScalarType.Float64).sum().ToDouble());
        }
        finally
        {
            cpu.allocator.set_trading(true);
        }
    }

    [Fact]
    public void WithoutTrading_ARequestNoKeptBlockFits_MapsANewBlock_AndKeepsTheOthers()
    {
        cpu.allocator.set_trading(false);
        try
        {
            cpu.allocator.empty_cache();
            empty([2 * MiB], ScalarType.Byte).Dispose();
            var (hits0, resized0, misses0) = cpu.allocator.reuse();
            using var big = empty([3 * MiB], ScalarType.Byte);
            Assert.Equal((hits0, resized0, misses0 + 1), cpu.allocator.reuse());
            Assert.Equal(2 * MiB, cpu.allocator.cached_bytes());
        }
        finally
        {
            cpu.allocator.set_trading(true);
        }
    }

    [Fact]
    public void WhileKeptBytesStayWithinASixteenthOfTheLiveBytes_ARequestNoKeptBlockFits_MapsANewBlock()
    {
        cpu.allocator.set_trading(true);   // the default
        try
        {
            cpu.allocator.empty_cache();
            using var held = empty([128 * MiB], ScalarType.Byte);    // live ≥ 128 MiB: the slack is at least 8 MiB
            empty([2 * MiB], ScalarType.Byte).Dispose();
            var (hits0, resized0, misses0) = cpu.allocator.reuse();

            // 2 MiB kept + 3 MiB asked ≤ 8 MiB: a new block, the kept one waits for a request of its size.
            using var within = empty([3 * MiB], ScalarType.Byte);
            Assert.Equal((hits0, resized0, misses0 + 1), cpu.allocator.reuse());
            Assert.Equal(2 * MiB, cpu.allocator.cached_bytes());

            // 2 MiB kept + 9 MiB asked > the slack (live is now 131 MiB, a sixteenth 8.2 MiB): the kept block grows.
            using var beyond = full([9 * MiB], 5, ScalarType.Byte);
            Assert.Equal((hits0, resized0 + 1, misses0 + 1), cpu.allocator.reuse());
            Assert.Equal(0, cpu.allocator.cached_bytes());
            Assert.Equal(5.0 * 9 * MiB, beyond.to_type(ScalarType.Float64).sum().ToDouble());
        }
        finally
        {
            cpu.allocator.set_trading(true);
        }
    }

    [Fact]
    public void SmallTensors_GoToLibtorchsAllocator()
    {
        var live0 = cpu.allocator.live_bytes();
        var reuse0 = cpu.allocator.reuse();
        using var small = ones([100_000], ScalarType.Float32);      // 400 kB
        Assert.Equal(live0, cpu.allocator.live_bytes());
        Assert.Equal(reuse0, cpu.allocator.reuse());
    }

    [Fact]
    public void CacheLimit_BoundsWhatIsKept()
    {
        try
        {
            cpu.allocator.set_cache_limit(3 * MiB);
            var a = empty([2 * MiB], ScalarType.Byte);
            var b = empty([2 * MiB], ScalarType.Byte);
            a.Dispose();
            Assert.Equal(2 * MiB, cpu.allocator.cached_bytes());
            b.Dispose();                                            // 4 MiB would exceed the limit: the older block goes
            Assert.Equal(2 * MiB, cpu.allocator.cached_bytes());
            cpu.allocator.set_cache_limit(0);
            Assert.Equal(0, cpu.allocator.cached_bytes());
            empty([2 * MiB], ScalarType.Byte).Dispose();
            Assert.Equal(0, cpu.allocator.cached_bytes());
        }
        finally
        {
            cpu.allocator.set_cache_limit(4096 * MiB);
        }
        Assert.Throws<TorchArgumentException>(() => cpu.allocator.set_cache_limit(-1));
    }

    [Fact]
    public void ManyBlocksFreedAndReusedInMixedOrder_KeepTheirOwnContents()
    {
        // Tensors of recurring sizes, as layers allocate them, each filled with its own value; every other one is
        // freed and replaced as we go. A block handed out twice, or reused while still live, would overwrite a value.
        cpu.allocator.empty_cache();
        var random = new Random(5);
        var live = new List<(Tensor Tensor, float Value)>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var elements = (1 + random.Next(6)) * MiB / 4 + random.Next(1000);
                var value = i + 0.25f;
                live.Add((full([elements], value, ScalarType.Float32), value));
                if (live.Count > 8)
                {
                    var victim = random.Next(live.Count);
                    live[victim].Tensor.Dispose();
                    live.RemoveAt(victim);
                }
                foreach (var (tensor, v) in live)
                {
                    Assert.Equal(v, tensor.min().ToSingle());
                    Assert.Equal(v, tensor.max().ToSingle());
                }
            }
            Assert.True(cpu.allocator.reuse().Hits > 0);
        }
        finally
        {
            foreach (var (tensor, _) in live)
                tensor.Dispose();
        }
    }

    [Fact]
    public void KernelsTakingRawScratchSpace_GetLargeBlocks()
    {
        // oneDNN's bfloat16 matmul takes its scratch space through raw_allocate/raw_deallocate, which need the block's
        // address as its context: this product crashed the process before they had it.
        using var scope = NewDisposeScope();
        manual_seed(3);
        var a = randn([512, 2048]).to_type(ScalarType.BFloat16);
        var b = randn([2048, 1024]).to_type(ScalarType.BFloat16);
        var product = a.matmul(b).to_type(ScalarType.Float32);
        var exact = a.to_type(ScalarType.Float32).matmul(b.to_type(ScalarType.Float32));
        var relative = (product - exact).abs().max().ToDouble() / exact.abs().max().ToDouble();
        Assert.True(relative < 1e-2, $"relative error {relative}");
    }

    [Fact]
    public void Peak_FollowsLiveBytesAndResets()
    {
        cpu.allocator.empty_cache();
        cpu.allocator.reset_peak();
        var start = cpu.allocator.peak_bytes();
        using (empty([8 * MiB], ScalarType.Byte))
            Assert.Equal(start + 8 * MiB, cpu.allocator.peak_bytes());
        // Freed and kept: the peak stays, and a reset brings it to what is held now (live + kept).
        Assert.Equal(start + 8 * MiB, cpu.allocator.peak_bytes());
        cpu.allocator.empty_cache();
        cpu.allocator.reset_peak();
        Assert.Equal(cpu.allocator.live_bytes(), cpu.allocator.peak_bytes());
    }
}
