namespace FineTuneAgent.TestPlugins.ThrowingMethods;

/// <summary>A method whose type initializer throws (a static field that cannot be computed).</summary>
public sealed class TypeInitializerThrowsMethod : ThrowingMethod
{
    private static readonly int Rank = int.Parse(Environment.GetEnvironmentVariable("FTA_TEST_NO_SUCH_VARIABLE") ?? "not a number", System.Globalization.CultureInfo.InvariantCulture);

    public override string Name => $"cctor-throws-{Rank}";
}
