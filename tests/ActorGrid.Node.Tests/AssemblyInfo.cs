// Every test here starts real node processes; on a 2-core machine they must not compete with each other.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
