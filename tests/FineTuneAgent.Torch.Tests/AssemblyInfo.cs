// The live-tensor counter is process-wide, so tests that assert it must not overlap with others.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
