using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch.Tests;

/// <summary>Native memory is released deterministically: training steps leave no tensors behind.</summary>
public class LeakTests
{
    private sealed class TinyMlp : nn.Module<Tensor, Tensor>
    {
        private readonly Linear _up;
        private readonly Linear _down;
        private readonly Dropout _drop = new(0.1);

        public TinyMlp() : base(nameof(TinyMlp))
        {
            _up = new Linear(8, 16);
            _down = new Linear(16, 4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = _up.call(input);
            using var a = h.silu();
            using var d = _drop.call(a);
            return _down.call(d);
        }
    }

    [Fact]
    public void TrainingLoop_TenThousandSteps_LiveTensorCountReturnsToBaseline()
    {
        manual_seed(0);
        var baseline = LiveCount.Settled();
        using (var model = new TinyMlp())
        using (var optimizer = optim.AdamW(model.parameters(), lr: 1e-3))
        using (var x = randn(4, 8))
        using (var target = tensor(new long[] { 0, 1, 2, 3 }))
        {
            double first = 0, last = 0;
            long afterSetup = 0;
            for (var step = 0; step < 10_000; step++)
            {
                // Optimizer state is created on the first step; after that nothing may accumulate.
                if (step == 2)
                    afterSetup = LiveCount.Settled();
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var logits = model.call(x);
                var loss = nn.functional.cross_entropy(logits, target);
                loss.backward();
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                optimizer.step();
                if (step == 0) first = loss.item<double>();
                last = loss.item<double>();
            }
            Assert.True(last < first / 10, $"the loop should learn the 4 fixed targets (loss {first} -> {last})");
            Assert.Equal(afterSetup, LiveCount.Settled());
        }
        Assert.Equal(baseline, LiveCount.Settled());
    }

    [Fact]
    public void DisposeScope_DisposesWhatItCollected_ExceptMovedOrDetached()
    {
        var baseline = LiveCount.Settled();
        Tensor kept;
        Tensor detached;
        using (var outer = NewDisposeScope())
        {
            using (var inner = NewDisposeScope())
            {
                var a = ones(3);
                var b = a * 2;
                kept = (b + 1).MoveToOuterDisposeScope();
                detached = zeros(2).DetachFromDisposeScope();
                Assert.Equal(2, inner.Count);
                Assert.Equal(baseline + 4, Tensor.TotalCount);
                Assert.Same(inner, DisposeScope.Current);
            }
            Assert.Same(outer, DisposeScope.Current);
            Assert.Equal(baseline + 2, Tensor.TotalCount);
            Assert.Equal([3f, 3, 3], kept.data<float>());
        }
        Assert.True(kept.IsInvalid);
        Assert.False(detached.IsInvalid);
        detached.Dispose();
        Assert.Null(DisposeScope.Current);
        Assert.Equal(baseline, LiveCount.Settled());
    }

    [Fact]
    public void DisposeEverythingBut_KeepsOnlyTheNamedTensors()
    {
        var baseline = LiveCount.Settled();
        using (var scope = NewDisposeScope())
        {
            var a = ones(2);
            var b = a + 1;
            var c = b * 3;
            scope.DisposeEverythingBut(c);
            Assert.True(a.IsInvalid && b.IsInvalid);
            Assert.Equal([6f, 6f], c.data<float>());
        }
        Assert.Equal(baseline, LiveCount.Settled());
    }

    [Fact]
    public void Parameter_TakesOverItsTensor_AndModuleDisposesIt()
    {
        var baseline = LiveCount.Settled();
        var data = ones(3);
        var p = new Parameter(data);
        Assert.True(data.IsInvalid);
        Assert.True(p.requires_grad && p.is_leaf);
        Assert.Equal(baseline + 1, Tensor.TotalCount);
        p.Dispose();
        Assert.Equal(baseline, LiveCount.Settled());
    }
}
