using FineTuneAgent.Modeling.Layers;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests;

/// <summary>Packed rows: position ids restarting at 0 make attention block-diagonal, so each example sees only itself.</summary>
public sealed class PackedAttentionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void APackedRow_GivesEachExampleTheLogitsItHasAlone(bool qwen3)
    {
        manual_seed(4);
        using var model = new CausalLM(TinyModels.Parse(qwen3 ? TinyModels.Qwen3Json() : TinyModels.LlamaJson()));
        model.eval();
        using var grad = no_grad();
        using var a = tensor(new long[] { 5, 9, 11, 3, 7 }).view(1, 5);
        using var bIds = tensor(new long[] { 8, 2, 6, 4 }).view(1, 4);
        using var packed = cat([a, bIds], 1);
        using var positions = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3 }).view(1, 9);

        using var alone1 = model.forward(a);
        using var alone2 = model.forward(bIds);
        using var together = model.forward(packed, positionIds: positions);
        using var first = together.narrow(1, 0, 5);
        using var second = together.narrow(1, 5, 4);
        Assert.True(first.allclose(alone1, rtol: 1e-5, atol: 1e-5));
        Assert.True(second.allclose(alone2, rtol: 1e-5, atol: 1e-5));

        // Without the restart the second example would see the first: the check above can fail.
        using var leaky = model.forward(packed, positionIds: arange(0L, 9L).view(1, 9));
        using var leakySecond = leaky.narrow(1, 5, 4);
        Assert.False(leakySecond.allclose(alone2, rtol: 1e-3, atol: 1e-3));
    }
}
