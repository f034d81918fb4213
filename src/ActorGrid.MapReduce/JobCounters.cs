#nullable enable
namespace ActorGrid.MapReduce;

/// <summary>
/// Names of the built-in job counters of <c>GET /jobs/{id}</c>. Record counters are summed over accepted attempts
/// only, so they equal a fault-free run's; attempt counters count every attempt.
/// </summary>
public static class JobCounters
{
    /// <summary>Records read by accepted map attempts.</summary>
    public const string MapInputRecords = "mapInputRecords";

    /// <summary>Bytes of record values read by accepted map attempts.</summary>
    public const string MapInputBytes = "mapInputBytes";

    /// <summary>Pairs emitted by map functions of accepted attempts.</summary>
    public const string MapOutputRecords = "mapOutputRecords";

    /// <summary>Pairs left after the map-side combiner, i.e. shuffled.</summary>
    public const string CombineOutputRecords = "combineOutputRecords";

    /// <summary>Pairs received by reduce partitions from accepted map attempts.</summary>
    public const string ReduceInputRecords = "reduceInputRecords";

    /// <summary>Distinct keys reduced.</summary>
    public const string ReduceInputGroups = "reduceInputGroups";

    /// <summary>Output pairs written.</summary>
    public const string ReduceOutputRecords = "reduceOutputRecords";

    /// <summary>Map attempts started (first runs, retries and speculative copies).</summary>
    public const string MapAttempts = "mapAttempts";

    /// <summary>Reduce runs started.</summary>
    public const string ReduceAttempts = "reduceAttempts";

    /// <summary>Map attempts plus reduce runs.</summary>
    public const string TaskAttempts = "taskAttempts";

    /// <summary>Attempts started because an earlier attempt of the task failed, timed out or lost its node.</summary>
    public const string RetriedAttempts = "retriedAttempts";

    /// <summary>Speculative copies of slow map attempts.</summary>
    public const string SpeculativeAttempts = "speculativeAttempts";

    /// <summary>Attempts that failed, timed out or lost their node.</summary>
    public const string FailedAttempts = "failedAttempts";

    /// <summary>Running attempts abandoned because another attempt of their task won (or the job was cancelled).</summary>
    public const string KilledAttempts = "killedAttempts";

    /// <summary>KV map tasks whose accepted attempt ran on the node owning its partition.</summary>
    public const string DataLocalMapTasks = "dataLocalMapTasks";

    /// <summary>KV map tasks whose accepted attempt read its partition from another node.</summary>
    public const string RemoteMapTasks = "remoteMapTasks";
}
