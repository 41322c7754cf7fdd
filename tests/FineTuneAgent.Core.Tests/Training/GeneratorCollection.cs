namespace FineTuneAgent.Core.Tests.Training;

/// <summary>
/// Tests that build models or train draw from libtorch's one global generator (manual_seed, LoRA init,
/// dropout): another test drawing in parallel would change what they must reproduce exactly, so they
/// run on their own, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GeneratorCollection
{
    public const string Name = "libtorch generator";
}
