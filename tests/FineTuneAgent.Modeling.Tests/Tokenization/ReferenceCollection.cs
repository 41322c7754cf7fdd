namespace FineTuneAgent.Modeling.Tests.Tokenization;

/// <summary>Test classes that share the <see cref="ReferenceFixture"/> (one node run per test run).</summary>
[CollectionDefinition(Name)]
public sealed class ReferenceCollection : ICollectionFixture<ReferenceFixture>
{
    public const string Name = "Reference tokenizer";
}
