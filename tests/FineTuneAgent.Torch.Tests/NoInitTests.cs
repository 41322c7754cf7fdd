using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch.Tests;

/// <summary>nn.init.no_init: modules built inside skip their default initialisation (as transformers' no_init_weights).</summary>
public sealed class NoInitTests
{
    [Fact]
    public void Initialisers_LeaveTensorsAsTheyAre_OnlyInsideTheScope_AndScopesNest()
    {
        using var t = zeros([8, 8]);
        using (nn.init.no_init())
        {
            using (nn.init.no_init())
                nn.init.kaiming_uniform_(t, a: Math.Sqrt(5));
            nn.init.normal_(t);
            nn.init.uniform_(t);
            nn.init.xavier_uniform_(t);
            Assert.True(nn.init.skipping);
        }
        Assert.False(nn.init.skipping);
        Assert.Equal(0f, t.abs().sum().ToSingle());
        nn.init.kaiming_uniform_(t, a: Math.Sqrt(5));
        Assert.True(t.abs().sum().ToSingle() > 0);
    }

    [Fact]
    public void ALinearBuiltInside_IsNotInitialised_ButOneBuiltAfterIs()
    {
        // Filled with a marker first: a skipped init leaves whatever the allocator gives; what we can
        // check is that a module built outside the scope is initialised within its bound.
        using var outside = new Linear(16, 4);
        var bound = 1.0 / Math.Sqrt(16);
        Assert.True(outside.weight.abs().max().ToDouble() <= bound);
        Assert.True(outside.weight.abs().max().ToDouble() > 0);
        using var scope = nn.init.no_init();
        using var inside = new Linear(16, 4);
        using (no_grad())
            inside.weight.fill_(7);
        nn.init.kaiming_uniform_(inside.weight, a: Math.Sqrt(5));
        Assert.Equal(7f, inside.weight.min().ToSingle());
    }
}
