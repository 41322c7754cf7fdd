using FineTuneAgent.Modeling.Chat;
using FineTuneAgent.Modeling.Tokenization;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// The dataset stage's work, top to bottom: read each file (JSON or JSONL) → rows to conversations
/// (Alpaca or ShareGPT) → clean (empty prompts/answers, duplicates) → render with the model's chat format
/// and tokenize, labels masked outside assistant turns → drop or truncate over cutoff_len → mix by ratios
/// → split train/validation → pack (optional). The result is cached on disk under a key of everything it
/// depends on (<see cref="DatasetCacheKey"/>), and a later run with the same inputs loads it from there.
/// </summary>
public static class DatasetPipeline
{
    /// <summary>The tokenizer files of a model folder that the cache key covers (those present).</summary>
    public static IReadOnlyList<string> TokenizerFiles(string modelDirectory) =>
        new[] { "tokenizer.json", "tokenizer_config.json", "chat_template.jinja" }
            .Select(f => Path.Combine(modelDirectory, f)).Where(File.Exists).ToArray();

    /// <summary>Prepares the datasets for the model in <paramref name="modelDirectory"/> (its tokenizer) and chat format.</summary>
    public static PreparedDataset Prepare(DatasetRequest request, string modelDirectory, IChatFormat format, Action<string>? progress = null) =>
        Prepare(request, Tokenizer.FromDirectory(modelDirectory), format, TokenizerFiles(modelDirectory), progress);

    /// <param name="tokenizerFiles">The files <paramref name="tokenizer"/> was loaded from; their bytes are part of the cache key.</param>
    public static PreparedDataset Prepare(DatasetRequest request, ITokenizer tokenizer, IChatFormat format, IReadOnlyList<string> tokenizerFiles, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(format);
        Validate(request);

        // The key hashes the data and tokenizer files (cheap next to tokenizing them): computed even without a
        // cache, since it is also the run history's dataset hash.
        var key = DatasetCacheKey.Compute(request, format.Name, tokenizerFiles);
        var hash = Convert.ToHexStringLower(key);
        string? problem = null;
        if (request.CacheDirectory is { } dir)
        {
            var cached = DatasetCache.TryLoad(dir, key, out problem);
            if (cached is not null)
            {
                progress?.Invoke($"dataset: loaded from cache {cached.CacheFile}");
                return cached with { Cache = CacheOutcome.Hit, ContentHash = hash };
            }
            if (problem is not null)
                progress?.Invoke($"dataset: cache not trusted ({problem}); rebuilding");
        }

        var built = Build(request, tokenizer, format, progress) with { ContentHash = hash };
        if (request.CacheDirectory is { } cacheDir)
        {
            var file = DatasetCache.Save(cacheDir, key, built);
            built = built with { Cache = problem is null ? CacheOutcome.Miss : CacheOutcome.Rebuilt, CacheFile = file, CacheProblem = problem };
        }
        return built;
    }

    private static PreparedDataset Build(DatasetRequest request, ITokenizer tokenizer, IChatFormat format, Action<string>? progress) =>
        BuildWithHeldOut(request, tokenizer, format, progress).Dataset;

    /// <summary>
    /// The conversations of the validation split, exactly those <see cref="Prepare"/> holds out for the same
    /// request (the split is deterministic by seed): what evaluation at the end of a run generates against.
    /// Built afresh, not from the cache, which keeps only token ids.
    /// </summary>
    public static IReadOnlyList<Modeling.Chat.Conversation> HeldOutConversations(DatasetRequest request, ITokenizer tokenizer, IChatFormat format)
    {
        Validate(request);
        return BuildWithHeldOut(request, tokenizer, format, null).HeldOut.Select(e => e.Conversation!).ToList();
    }

    private static (PreparedDataset Dataset, IReadOnlyList<TokenizedExample> HeldOut) BuildWithHeldOut(DatasetRequest request, ITokenizer tokenizer, IChatFormat format, Action<string>? progress)
    {
        var options = new ChatRenderOptions { LossScope = request.LossScope, EnableThinking = request.EnableThinking };
        var encoder = new ExampleEncoder(tokenizer, format, options);
        var cleaner = new ConversationCleaner(request.Deduplicate);
        var tallies = new List<SourceTally>();
        var perSource = new List<IReadOnlyList<TokenizedExample>>();
        var warnings = new List<string>();

        for (var s = 0; s < request.Sources.Count; s++)
        {
            var description = request.Sources[s].Description;
            var tally = new SourceTally(description);
            tallies.Add(tally);
            progress?.Invoke($"dataset: reading {description.FilePath}");
            var read = DatasetReader.Read(description, request.SkipBadRows);
            tally.Rows = read.Rows;
            tally.BadRows.AddRange(read.BadRows);

            var examples = new List<TokenizedExample>();
            var withReasoning = 0;
            foreach (var example in read.Examples)
            {
                if (cleaner.Check(example.Conversation) is { } reason)
                {
                    tally.Drop(reason, example.At);
                    continue;
                }
                int[] ids, labels;
                try
                {
                    (ids, labels) = encoder.Encode(example.Conversation);
                }
                catch (ChatFormatException e)
                {
                    var bad = new DatasetException($"the {format.Name} chat format cannot render this row: {e.Message}", example.At);
                    if (!request.SkipBadRows)
                        throw bad;
                    tally.BadRows.Add(bad);
                    continue;
                }
                if (ids.Length > request.CutoffLength)
                {
                    if (request.Overlength == OverlengthPolicy.Drop || !labels.AsSpan(0, request.CutoffLength).ContainsAnyExcept(TokenizedExample.IgnoreIndex))
                    {
                        tally.Drop(DropReason.TooLong, example.At);
                        continue;
                    }
                    ids = ids[..request.CutoffLength];
                    labels = labels[..request.CutoffLength];
                    tally.Truncated++;
                }
                if (example.Conversation.Messages.Any(m => !string.IsNullOrEmpty(m.ReasoningContent)))
                    withReasoning++;
                examples.Add(new TokenizedExample(ids, labels, s) { Conversation = example.Conversation });
            }
            tally.Kept = examples.Count;
            if (examples.Count == 0)
                throw AllDropped(tally);
            if (withReasoning > 0 && format is not Qwen3ChatFormat)
                warnings.Add($"{description.Name}: {withReasoning} rows carry reasoning, which the {format.Name} chat format does not render (it is dropped)");
            perSource.Add(examples);
            progress?.Invoke($"dataset: {description.Name}: {examples.Count} of {read.Rows} rows kept");
        }

        var ratios = request.Sources.All(x => x.Ratio is null) ? null : request.Sources.Select(x => x.Ratio!.Value).ToArray();
        var mixed = DatasetMixer.Mix(perSource, ratios, request.Seed);
        foreach (var e in mixed)
            tallies[e.Source].Used++;
        var (train, validation) = DatasetSplitter.Split(mixed, request.ValSize, request.Seed);

        var trainRows = Rows(train, request);
        var valRows = Rows(validation, request);
        var summary = new DatasetSummary(
            tallies.Select(t => t.ToSummary()).ToArray(),
            train.Count,
            validation.Count,
            trainRows.Count,
            valRows.Count,
            trainRows.Sum(r => (long)r.Length),
            trainRows.Sum(r => (long)r.LossTokens),
            warnings);
        return (new PreparedDataset(trainRows, valRows, summary), validation);
    }

    private static IReadOnlyList<TrainingSequence> Rows(IReadOnlyList<TokenizedExample> examples, DatasetRequest request) =>
        request.Packing ? SequencePacker.Pack(examples, request.CutoffLength) : examples.Select(TrainingSequence.Single).ToArray();

    private static DatasetException AllDropped(SourceTally tally)
    {
        var s = tally.ToSummary();
        var reasons = s.Dropped.Select(d => $"{d.Reason} {d.Count} (first at {string.Join(", ", d.FirstAt)})")
            .Concat(s.BadRows > 0 ? [$"bad rows {s.BadRows} (first: {s.FirstBadRows[0]})"] : []);
        return new DatasetException($"all {s.Rows} rows were filtered out: {string.Join("; ", reasons)}", new SourceLocation(s.File));
    }

    private static void Validate(DatasetRequest request)
    {
        if (request.Sources is null || request.Sources.Count == 0)
            throw new ArgumentException("no datasets given", nameof(request));
        if (request.CutoffLength <= 0)
            throw new ArgumentException($"cutoff_len must be positive, got {request.CutoffLength}", nameof(request));
        var given = request.Sources.Count(s => s.Ratio is not null);
        if (given != 0 && given != request.Sources.Count)
            throw new ArgumentException("give a mixing ratio for every dataset or for none", nameof(request));
        if (request.Sources.Any(s => s.Ratio is { } r && !(r > 0)))
            throw new ArgumentException("mixing ratios must be positive", nameof(request));
        DatasetSplitter.ValidationCount(int.MaxValue, request.ValSize);
    }
}
