using FineTuneAgent.Torch.Modules;

namespace FineTuneAgent.Torch.Tests;

public class ModuleTests
{
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Linear q_proj = new(4, 4, hasBias: false);
        private readonly Embedding embed_tokens = new(10, 4);
        public readonly ModuleList<Linear> layers = new(new Linear(4, 4), new Linear(4, 2));

        public Block() : base(nameof(Block))
        {
            RegisterComponents();
            register_buffer("inv_freq", arange(0.0, 2.0), persistent: false);
            register_buffer("scale", ones(1));
        }

        public override Tensor forward(Tensor input)
        {
            using var e = embed_tokens.call(input);
            using var q = q_proj.call(e);
            using var h = layers[0].call(q);
            return layers[1].call(h);
        }
    }

    [Fact]
    public void NamedParameters_FollowPyTorchNaming()
    {
        using var m = new Block();
        var names = m.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(["q_proj.weight", "embed_tokens.weight", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"], names);
        var state = m.state_dict().Keys.ToHashSet();
        Assert.Contains("scale", state);
        Assert.DoesNotContain("inv_freq", state);   // non-persistent buffer
        Assert.Equal(2, m.named_buffers().Count());
    }

    [Fact]
    public void LoadStateDict_CopiesValues_AndStrictReportsEveryProblem()
    {
        using var a = new Block();
        using var b = new Block();
        b.load_state_dict(a.state_dict());
        foreach (var ((na, ta), (nb, tb)) in a.state_dict().Zip(b.state_dict()))
        {
            Assert.Equal(na, nb);
            Assert.True(ta.equal(tb), na);
        }

        using var wrongShape = zeros(3, 3);
        using var extra = zeros(1);
        var bad = a.state_dict().Where(kv => kv.Key != "layers.1.bias").ToDictionary();
        bad["q_proj.weight"] = wrongShape;
        bad["lm_head.weight"] = extra;
        var e = Assert.Throws<ArgumentException>(() => b.load_state_dict(bad));
        Assert.Contains("missing keys: layers.1.bias", e.Message);
        Assert.Contains("unexpected keys: lm_head.weight", e.Message);
        Assert.Contains("q_proj.weight: checkpoint [3, 3] vs model [4, 4]", e.Message);
    }

    [Fact]
    public void To_Dtype_ConvertsInPlace_KeepingParameterIdentity()
    {
        using var m = new Block();
        var before = m.parameters().ToList();
        m.to(ScalarType.BFloat16);
        Assert.All(m.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(before, m.parameters().ToList());
        using var opt = optim.AdamW(m.parameters());
        using var ids = tensor(new long[] { 1, 2 });
        using var y = m.call(ids);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
    }

    [Fact]
    public void TrainEval_SwitchesDropoutRecursively()
    {
        using var d = new Dropout(0.9);
        using var list = new ModuleList<Dropout>(d);
        list.eval();
        Assert.False(d.training);
        using var x = ones(1000);
        using var y = d.call(x);
        Assert.True(y.equal(x));
        list.train();
        Assert.True(d.training);
    }

    [Fact]
    public void ZeroGrad_ClearsGradients()
    {
        using var m = new Block();
        using var ids = tensor(new long[] { 3 });
        using var y = m.call(ids);
        using var s = y.sum();
        s.backward();
        Assert.All(m.parameters(), p => Assert.NotNull(p.grad));
        m.zero_grad();
        Assert.All(m.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Linear_Init_MatchesPyTorchBounds()
    {
        manual_seed(5);
        using var l = new Linear(256, 512);
        var bound = 1 / Math.Sqrt(256);
        Assert.InRange(l.weight.data<float>().Max(), bound * 0.98, bound);
        Assert.InRange(l.bias!.data<float>().Min(), -bound, -bound * 0.9);
    }

    [Fact]
    public void Embedding_PaddingRow_IsZero()
    {
        using var e = new Embedding(5, 3, padding_idx: 2);
        using var row = e.weight[2];
        Assert.All(row.data<float>(), v => Assert.Equal(0f, v));
    }
}
