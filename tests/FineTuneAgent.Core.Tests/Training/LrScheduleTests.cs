using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// The schedules against (a) the closed forms written out independently here and (b) the learning rates
/// PyTorch 1.13's LambdaLR gave with Hugging Face's lambdas (printed by the script in the comment).
/// </summary>
public class LrScheduleTests
{
    // /usr/bin/python3: p = torch.nn.Parameter(torch.zeros(1)); o = torch.optim.AdamW([p], lr=2e-4)
    // s = torch.optim.lr_scheduler.LambdaLR(o, hf_lambda(warmup=3, total=10)); for each step: record
    // o.param_groups[0]['lr'], o.step(), s.step(). hf_lambda: transformers' _get_linear/_get_cosine_schedule_with_warmup_lr_lambda.
    private static readonly double[] s_torchLinear =
        [0.0, 6.666666666666667e-05, 0.00013333333333333334, 0.0002, 0.00017142857142857143, 0.00014285714285714287, 0.00011428571428571428, 8.571428571428571e-05, 5.714285714285714e-05, 2.857142857142857e-05, 0.0, 0.0];

    private static readonly double[] s_torchCosine =
        [0.0, 6.666666666666667e-05, 0.00013333333333333334, 0.0002, 0.0001900968867902419, 0.00016234898018587337, 0.00012225209339563145, 7.774790660436858e-05, 3.7651019814126654e-05, 9.903113209758096e-06, 0.0, 9.903113209758086e-06];

    private static readonly double[] s_torchCosineNoWarmup =
        [0.0002, 0.0001900968867902419, 0.00016234898018587337, 0.00012225209339563145, 7.774790660436858e-05, 3.7651019814126654e-05, 9.903113209758096e-06, 0.0];

    [Fact]
    public void Linear_MatchesTorchLambdaLR()
    {
        var schedule = new LrSchedule("linear", 3, 10);
        for (var i = 0; i < s_torchLinear.Length; i++)
            Assert.Equal(s_torchLinear[i], 2e-4 * schedule.Factor(i), 1e-15);
    }

    [Fact]
    public void Cosine_MatchesTorchLambdaLR()
    {
        var schedule = new LrSchedule("cosine", 3, 10);
        for (var i = 0; i < s_torchCosine.Length; i++)
            Assert.Equal(s_torchCosine[i], 2e-4 * schedule.Factor(i), 1e-15);
        var noWarmup = new LrSchedule("cosine", 0, 7);
        for (var i = 0; i < s_torchCosineNoWarmup.Length; i++)
            Assert.Equal(s_torchCosineNoWarmup[i], 2e-4 * noWarmup.Factor(i), 1e-15);
    }

    [Theory]
    [InlineData(0, 20)]
    [InlineData(5, 20)]
    [InlineData(1, 2)]
    [InlineData(7, 9)]
    public void Schedules_MatchTheClosedForms(int warmup, int total)
    {
        for (var t = 0; t <= total + 2; t++)
        {
            // Warmup: a straight line from 0 reaching 1 at the warmup's end.
            double? ramp = t < warmup ? t / (double)warmup : null;
            // Linear decay: the line through (warmup, 1) and (total, 0), floored at 0.
            var linear = ramp ?? Math.Clamp(1.0 - (t - warmup) / (double)Math.Max(1, total - warmup), 0, 1);
            // Cosine: (1 + cos πx) / 2 written by the half-angle identity as cos²(πx/2), x the decay's progress
            // (past the end it rises again, as HF's does).
            var x = (t - warmup) / (double)Math.Max(1, total - warmup);
            var cosine = ramp ?? Math.Pow(Math.Cos(Math.PI * x / 2), 2);
            Assert.Equal(linear, new LrSchedule("linear", warmup, total).Factor(t), 1e-12);
            Assert.Equal(cosine, new LrSchedule("cosine", warmup, total).Factor(t), 1e-12);
            Assert.Equal(ramp ?? 1.0, new LrSchedule("constant_with_warmup", warmup, total).Factor(t), 1e-12);
            Assert.Equal(1.0, new LrSchedule("constant", 0, total).Factor(t));
        }
    }

    [Fact]
    public void For_WarmupRatio_RoundsUp_AndWarmupStepsWin()
    {
        Assert.Equal(3, LrSchedule.For(new TrainingOptions { WarmupRatio = 0.1 }, 21).WarmupSteps);
        Assert.Equal(5, LrSchedule.For(new TrainingOptions { WarmupRatio = 0.1, WarmupSteps = 5 }, 21).WarmupSteps);
        Assert.Equal(0, LrSchedule.For(new TrainingOptions { WarmupRatio = 0 }, 21).WarmupSteps);
    }
}
