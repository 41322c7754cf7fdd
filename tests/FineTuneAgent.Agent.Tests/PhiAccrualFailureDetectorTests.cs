using FineTuneAgent.Agent.Cluster;

namespace FineTuneAgent.Agent.Tests;

/// <summary>φ against the standard normal table (Φ(1) = 0.84134, Φ(2) = 0.97725, Φ(3) = 0.99865) and the detector's life cycle.</summary>
public sealed class PhiAccrualFailureDetectorTests
{
    [Theory]
    [InlineData(1000, 0.30103)]          // at the mean: 1 − Φ(0) = 0.5
    [InlineData(1100, 0.79953)]          // z = 1: −log10(0.15866)
    [InlineData(1200, 1.64302)]          // z = 2: −log10(0.02275)
    [InlineData(1300, 2.86966)]          // z = 3: −log10(0.00135)
    [InlineData(800, 0.00990)]           // z = −2: −log10(0.97725)
    public void Phi_IsTheNormalTailOnALogScale(double elapsed, double expected) =>
        Assert.Equal(expected, PhiAccrualFailureDetector.Phi(elapsed, 1000, 100), 3);

    [Fact]
    public void ARegularPeer_IsAvailable_UntilItsSilenceOutlastsMeanPlusPausePlusAboutSixDeviations()
    {
        var detector = new PhiAccrualFailureDetector(TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
        var t = DateTimeOffset.UnixEpoch;
        Assert.Equal(0, detector.Phi(t)); // never heard from: not suspected
        for (var i = 0; i < 50; i++)
            detector.Heartbeat(t = t.AddMilliseconds(200));
        Assert.True(detector.IsAvailable(t.AddMilliseconds(800), 8));   // mean 200 + pause 600: phi 0.3
        Assert.True(detector.IsAvailable(t.AddMilliseconds(1300), 8));  // z = 5 with σ at its 100 ms floor: phi 6.5
        Assert.False(detector.IsAvailable(t.AddMilliseconds(1400), 8)); // z = 6: phi 9.0
        Assert.True(detector.Phi(t.AddMilliseconds(1400)) > detector.Phi(t.AddMilliseconds(1300)));
        detector.Heartbeat(t.AddMilliseconds(1500));
        Assert.True(detector.IsAvailable(t.AddMilliseconds(1600), 8)); // back
    }
}
