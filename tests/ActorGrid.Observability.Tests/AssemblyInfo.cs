// Cluster and process specs start several nodes each; on two cores they must not run side by side.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
