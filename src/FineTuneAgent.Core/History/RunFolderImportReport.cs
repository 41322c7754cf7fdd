namespace FineTuneAgent.Core.History;

/// <summary>
/// What <see cref="HistoryStore.ImportRunFolders"/> did: runs written (new or changed since the last import),
/// runs left as they were, runs skipped because they were deleted from the history, and folders it could not
/// read (each problem names its file; those folders are left as they are and tried again next time).
/// </summary>
public sealed record RunFolderImportReport(int Imported, int Unchanged, int SkippedDeleted, IReadOnlyList<string> Problems);
