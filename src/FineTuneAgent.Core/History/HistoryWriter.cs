using FineTuneAgent.Actors;
using FineTuneAgent.Actors.Event;
using Microsoft.Data.Sqlite;
using static FineTuneAgent.Core.History.HistoryProtocol;

namespace FineTuneAgent.Core.History;

/// <summary>
/// The single writer of a history: owns its only write connection (opened in PreStart, closed in PostStop) and
/// applies <see cref="HistoryProtocol"/> messages one at a time, each in one transaction, so writes never
/// interleave and every message is either wholly committed or not at all. Writes are short (a metrics batch is
/// a few rows), so they run on the mailbox thread.
/// A write that names no recorded run is refused (answered with <c>Status.Failure</c>, and published as a
/// <see cref="Warning"/>) and the writer goes on; any other failure (disk full, a damaged file) is answered
/// likewise and then thrown, for the supervisor to decide (the default restarts it with a fresh connection).
/// </summary>
public sealed class HistoryWriter : ReceiveActor
{
    private const int SqliteConstraint = 19;

    private readonly HistoryStore _store;
    private SqliteConnection? _connection;

    public HistoryWriter(HistoryStore store)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        Receive<RecordRun>(m => Apply(m, (c, t) => HistoryWrites.UpsertRun(c, t, m.Run)));
        Receive<UpdateStatus>(m => Apply(m, (c, t) => HistoryWrites.UpdateStatus(c, t, m.RunId, m.Status, m.Error, m.Summary, DateTimeOffset.UtcNow)));
        Receive<AppendMetrics>(m => Apply(m, (c, t) => HistoryWrites.AppendMetrics(c, t, m.RunId, m.Metrics)));
        Receive<TruncateMetricsAfter>(m => Apply(m, (c, t) => { HistoryWrites.TruncateMetricsAfter(c, t, m.RunId, m.Step); }));
        Receive<RecordEvaluation>(m => Apply(m, (c, t) => HistoryWrites.RecordEvaluation(c, t, m.RunId, m.Results, m.Source, DateTimeOffset.UtcNow)));
        Receive<RecordArtefact>(m => Apply(m, (c, t) => HistoryWrites.RecordArtefact(c, t, m.Artefact)));
        Receive<PutHardwareProfile>(m => Apply(m, (c, t) => HistoryWrites.PutHardwareProfile(c, t, m.Profile)));
        Receive<Flush>(_ => ReplyIfAsked(Written.Instance));
        Receive<DeleteRun>(m => Apply(m, (c, t) => new RunDeleted(m.RunId, HistoryWrites.DeleteRun(c, t, m.RunId, DateTimeOffset.UtcNow))));
    }

    public static Props Props(HistoryStore store) => Actors.Props.Create(() => new HistoryWriter(store));

    protected override void PreStart() => _connection = _store.OpenWriteConnection();

    protected override void PostStop()
    {
        _connection?.Dispose();
        _connection = null;
    }

    private void Apply(object message, Action<SqliteConnection, SqliteTransaction> write) =>
        Apply(message, (c, t) =>
        {
            write(c, t);
            return Written.Instance;
        });

    private void Apply(object message, Func<SqliteConnection, SqliteTransaction, object> write)
    {
        var connection = _connection ?? throw new InvalidOperationException("the history writer has no connection");
        object answer;
        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            answer = write(connection, transaction);
            transaction.Commit();
        }
        catch (Exception e) when (e is KeyNotFoundException || e is SqliteException { SqliteErrorCode: SqliteConstraint })
        {
            Context.System.EventStream.Publish(new Warning(Self.Path.ToString(), GetType(), $"history write {message.GetType().Name} refused: {e.Message}"));
            ReplyIfAsked(new Status.Failure(e));
            return;
        }
        catch (SqliteException e)
        {
            var error = _store.Translate(e);
            ReplyIfAsked(new Status.Failure(error));
            if (ReferenceEquals(error, e))
                throw;
            throw error;
        }
        catch (Exception e)
        {
            ReplyIfAsked(new Status.Failure(e));
            throw;
        }
        ReplyIfAsked(answer);
    }

    /// <summary>A told write has dead letters as its sender; answering it would only publish a DeadLetter.</summary>
    private void ReplyIfAsked(object answer)
    {
        if (!Sender.Equals(Context.System.DeadLetters))
            Sender.Tell(answer, Self);
    }
}
