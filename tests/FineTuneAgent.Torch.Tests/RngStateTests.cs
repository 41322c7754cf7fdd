using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Tests;

/// <summary>torch.get_rng_state / set_rng_state on the default CPU generator.</summary>
public class RngStateTests
{
    [Fact]
    public void SetRngState_ReplaysTheSameRandomNumbers()
    {
        manual_seed(123);
        using var warm = rand(5);
        using var state = get_rng_state();
        Assert.Equal(ScalarType.Byte, state.dtype);
        using var one = ones(16);
        using var first = rand(8);
        using var dropped = nn.functional.dropout(one, 0.5, true);
        set_rng_state(state);
        using var again = rand(8);
        using var droppedAgain = nn.functional.dropout(one, 0.5, true);
        Assert.Equal(first.data<float>(), again.data<float>());
        Assert.Equal(dropped.data<float>(), droppedAgain.data<float>());
    }

    [Fact]
    public void SetRngState_WithAWrongTensor_IsATorchError()
    {
        using var bad = zeros(3);
        Assert.ThrowsAny<TorchException>(() => set_rng_state(bad));
    }
}
