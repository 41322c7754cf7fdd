// The tests build models from libtorch's one global generator (manual_seed, then initialise):
// another test drawing random numbers in parallel would change the weights between two builds
// that must be equal, so this assembly's tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
