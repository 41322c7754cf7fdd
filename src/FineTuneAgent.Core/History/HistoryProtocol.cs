using System.Text.Json.Nodes;
using FineTuneAgent.Core.Training;

namespace FineTuneAgent.Core.History;

/// <summary>
/// Messages of <see cref="HistoryWriter"/>. Each write is applied in its own transaction, in the order it
/// arrived (so in the order each sender sent it). A write that was asked (it has a sender) is answered with
/// <see cref="Written"/> (<see cref="RunDeleted"/> for a delete) once committed, or with <c>Status.Failure</c>
/// when it names no recorded run; a told write is answered to no one.
/// </summary>
public static class HistoryProtocol
{
    /// <summary>Records a new run, or replaces a recorded run's fields (its metrics stay; null hashes and hardware keep the recorded ones).</summary>
    public sealed record RecordRun(HistoryRun Run);

    /// <summary>Moves a run to a status (see <see cref="HistoryWrites.UpdateStatus"/>), with the error or the summary it ended with.</summary>
    public sealed record UpdateStatus(string RunId, RunStatus Status, string? Error = null, JsonObject? Summary = null);

    /// <summary>A batch of metric rows of one run, written in one transaction.</summary>
    public sealed record AppendMetrics(string RunId, IReadOnlyList<HistoryMetric> Metrics);

    /// <summary>Drops train and eval rows after a step: a run resumed from that step's checkpoint repeats them.</summary>
    public sealed record TruncateMetricsAfter(string RunId, int Step);

    public sealed record RecordEvaluation(string RunId, JsonObject Results, string? Source = null);

    public sealed record RecordArtefact(HistoryArtefact Artefact);

    /// <summary>Deletes a run with its metrics, evaluations and artefact rows (not the files).</summary>
    public sealed record DeleteRun(string RunId);

    public sealed record PutHardwareProfile(HardwareProfileEntry Profile);

    /// <summary>Writes nothing; answered with <see cref="Written"/> once every write that arrived before it is committed.</summary>
    public sealed class Flush
    {
        public static readonly Flush Instance = new();

        private Flush()
        {
        }
    }

    /// <summary>The answer to an asked write: it is committed.</summary>
    public sealed class Written
    {
        public static readonly Written Instance = new();

        private Written()
        {
        }
    }

    /// <summary>The answer to an asked <see cref="DeleteRun"/>: whether there was such a run.</summary>
    public sealed record RunDeleted(string RunId, bool Existed);
}
