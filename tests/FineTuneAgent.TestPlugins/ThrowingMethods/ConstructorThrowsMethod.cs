namespace FineTuneAgent.TestPlugins.ThrowingMethods;

/// <summary>A method whose constructor throws.</summary>
public sealed class ConstructorThrowsMethod : ThrowingMethod
{
    public ConstructorThrowsMethod() => throw new InvalidOperationException("no GPU driver for this method");

    public override string Name => "ctor-throws";
}
