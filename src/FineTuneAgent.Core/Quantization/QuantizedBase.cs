using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Modeling.Checkpoints;
using FineTuneAgent.Modeling.Config;
using FineTuneAgent.Modeling.Layers;
using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Quantization;

/// <summary>A model whose decoder projections are stored quantized, and whether the cache supplied them.</summary>
public sealed record QuantizedBaseResult(CausalLM Model, bool FromCache, string? CacheFile, string? CacheProblem);

/// <summary>
/// A checkpoint's projections quantized on disk (<see cref="QuantizedBase.EnsureCached"/>): the cache file, its
/// scheme, how many projections, whether it was already there, and why a damaged one was rebuilt.
/// </summary>
public sealed record QuantizedBaseCache(string CacheFile, QuantizationScheme Scheme, int Tensors, bool FromCache, string? CacheProblem);

/// <summary>
/// Loads a checkpoint for QLoRA with every decoder projection quantized as it is read, one
/// tensor at a time: the model is built without initialising (so the full-precision projection
/// weights are never written, and their memory never touched), each projection's weight is read,
/// quantized and freed, then the rest (embeddings, norms, LM head) is loaded. With a cache folder
/// the quantized projections are written once per checkpoint digest and scheme, and later loads
/// read them back instead of quantizing (a damaged cache file is reported and rebuilt).
/// </summary>
public static class QuantizedBase
{
    public const string Format = "fta-quantized-base";
    public const string FormatVersion = "1";

    public static QuantizedBaseResult Load(string modelDir, QuantizationScheme scheme, ScalarType? computeDtype = null, string? cacheDir = null,
        IProgress<QuantizationProgress>? progress = null)
    {
        scheme.Validate();
        var (model, dtype) = Skeleton(modelDir, computeDtype);
        try
        {
            var slots = ProjectionSlot.Of(model);
            var cacheFile = cacheDir is null ? null : CacheFileFor(modelDir, cacheDir, scheme, dtype);
            string? problem = null;
            var fromCache = cacheFile is not null && File.Exists(cacheFile) && TryLoadCache(slots, cacheFile, scheme, dtype, progress, default, out problem);
            using var reader = Checkpoint.OpenWeights(modelDir);
            if (!fromCache)
                QuantizeFromCheckpoint(slots, reader, modelDir, scheme, dtype, progress, default);
            LoadTheRest(model, slots, reader, modelDir);
            if (!fromCache && cacheFile is not null)
                WriteCache(slots, cacheFile, scheme, dtype);
            return new QuantizedBaseResult(model, fromCache, cacheFile, problem);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes sure <paramref name="cacheDir"/> holds this checkpoint's projections quantized under
    /// <paramref name="scheme"/>, for a later <see cref="Load"/> with the same folder to read back: an existing
    /// cache file is read and checked, tensor by tensor (a damaged one is reported and rebuilt); otherwise the
    /// projections are quantized one at a time and the file is written. Only the projections are read (the
    /// embeddings, norms and LM head are left for the load), and nothing stays in memory afterwards. This is
    /// the quantizer stage's work; cancelling stops between tensors, before anything is written.
    /// </summary>
    public static QuantizedBaseCache EnsureCached(string modelDir, QuantizationScheme scheme, string cacheDir, ScalarType? computeDtype = null,
        IProgress<QuantizationProgress>? progress = null, CancellationToken cancellation = default)
    {
        scheme.Validate();
        var (model, dtype) = Skeleton(modelDir, computeDtype);
        using (model)
        {
            var slots = ProjectionSlot.Of(model);
            var cacheFile = CacheFileFor(modelDir, cacheDir, scheme, dtype);
            string? problem = null;
            if (File.Exists(cacheFile) && TryLoadCache(slots, cacheFile, scheme, dtype, progress, cancellation, out problem))
                return new QuantizedBaseCache(cacheFile, scheme, slots.Count, FromCache: true, null);
            using (var reader = Checkpoint.OpenWeights(modelDir))
                QuantizeFromCheckpoint(slots, reader, modelDir, scheme, dtype, progress, cancellation);
            WriteCache(slots, cacheFile, scheme, dtype);
            return new QuantizedBaseCache(cacheFile, scheme, slots.Count, FromCache: false, problem);
        }
    }

    /// <summary>The model of the checkpoint's config in the compute dtype, its storage allocated but never written (so never resident).</summary>
    private static (CausalLM Model, ScalarType Dtype) Skeleton(string modelDir, ScalarType? computeDtype)
    {
        var config = ModelConfigReader.Load(Path.Combine(modelDir, Checkpoint.ConfigFileName));
        var dtype = computeDtype ?? Checkpoint.DTypeOf(config.TorchDtype);
        using (nn.init.no_init())
            return (new CausalLM(config, dtype, initialize: false), dtype);
    }

    /// <summary>
    /// The checkpoint's content digest (<see cref="CheckpointDigest"/>), with the memo of file digests kept in
    /// <paramref name="cacheDir"/> (so a model is read whole once, whoever asks first: the quantizer or the history).
    /// </summary>
    public static string Digest(string modelDir, string cacheDir)
    {
        Directory.CreateDirectory(cacheDir);
        return CheckpointDigest.Compute(modelDir, Path.Combine(cacheDir, "digests.json"));
    }

    /// <summary>The cache file for this checkpoint's content (digest), scheme and compute dtype.</summary>
    private static string CacheFileFor(string modelDir, string cacheDir, QuantizationScheme scheme, ScalarType dtype)
    {
        var digest = Digest(modelDir, cacheDir);
        return Path.Combine(cacheDir, $"qbase-{digest[..32]}-{scheme.Key}-{Checkpoint.NameOf(dtype)}.safetensors");
    }

    private static nn.Module<Tensor, Tensor> Quantize(Tensor weight, Tensor? bias, QuantizationScheme scheme, ScalarType dtype) =>
        scheme.Type == "nf4"
            ? new Nf4Linear(weight, bias, scheme.BlockSize, scheme.DoubleQuant, dtype)
            : new Int8Linear(weight, bias, dtype);

    private static void QuantizeFromCheckpoint(IReadOnlyList<ProjectionSlot> slots, ISafetensorsReader reader, string modelDir, QuantizationScheme scheme, ScalarType dtype,
        IProgress<QuantizationProgress>? progress, CancellationToken cancellation)
    {
        using var _ = no_grad();
        for (var i = 0; i < slots.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var slot = slots[i];
            var linear = (FineTuneAgent.Torch.Modules.Linear)slot.Module;
            var name = slot.Name + ".weight";
            if (!reader.Contains(name))
                throw new CheckpointException($"{modelDir}: checkpoint lacks '{name}'");
            var shape = reader.GetInfo(name).Shape;
            if (!shape.SequenceEqual(linear.weight.shape))
                throw new CheckpointException($"{modelDir}: tensor '{name}' has shape [{string.Join(", ", shape)}] in the checkpoint, but the model needs [{string.Join(", ", linear.weight.shape)}]");
            using var stored = reader.Load(name);
            using var weight = stored.to_type(dtype); // quantized from the compute dtype, as QLoRA over a loaded model does
            using var bias = linear.bias is null ? null : reader.Load(slot.Name + ".bias");
            slot.Replace(Quantize(weight, bias, scheme, dtype)).Dispose();
            progress?.Report(new QuantizationProgress(name, i + 1, slots.Count, FromCache: false));
        }
    }

    private static void LoadTheRest(CausalLM model, IReadOnlyList<ProjectionSlot> slots, ISafetensorsReader reader, string modelDir)
    {
        var quantized = slots.Select(s => s.Name + ".").ToList();
        var rest = model.state_dict().Where(kv => !quantized.Any(q => kv.Key.StartsWith(q, StringComparison.Ordinal))).ToDictionary();
        Checkpoint.LoadTensors(reader, modelDir, rest);
    }

    private static void WriteCache(IReadOnlyList<ProjectionSlot> slots, string cacheFile, QuantizationScheme scheme, ScalarType dtype)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var slot in slots)
        {
            switch (slot.Module)
            {
                case Nf4Linear q:
                    tensors[slot.Name + ".packed"] = q.QuantizedWeight.Packed;
                    tensors[slot.Name + ".absmax"] = q.QuantizedWeight.Absmax;
                    if (q.QuantizedWeight.DoubleQuantized)
                    {
                        tensors[slot.Name + ".nested_absmax"] = q.QuantizedWeight.NestedAbsmax!;
                        tensors[slot.Name + ".nested_code"] = q.QuantizedWeight.NestedCode!;
                        tensors[slot.Name + ".nested_offset"] = q.QuantizedWeight.NestedOffset!;
                    }
                    if (q.bias is not null) tensors[slot.Name + ".bias"] = q.bias;
                    break;
                case Int8Linear q:
                    tensors[slot.Name + ".data"] = q.QuantizedWeight.Data;
                    tensors[slot.Name + ".row_stats"] = q.QuantizedWeight.RowStats;
                    if (q.bias is not null) tensors[slot.Name + ".bias"] = q.bias;
                    break;
            }
        }
        Safetensors.Save(cacheFile, tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = FormatVersion,
            ["scheme"] = scheme.Key,
            ["dtype"] = Checkpoint.NameOf(dtype),
        });
    }

    /// <summary>Reads every projection from the cache, or none: any problem leaves the model untouched and is reported.</summary>
    private static bool TryLoadCache(IReadOnlyList<ProjectionSlot> slots, string cacheFile, QuantizationScheme scheme, ScalarType dtype,
        IProgress<QuantizationProgress>? progress, CancellationToken cancellation, out string? problem)
    {
        var built = new List<nn.Module<Tensor, Tensor>>();
        try
        {
            using var reader = SafetensorsFile.Open(cacheFile);
            var meta = reader.Metadata;
            if (!meta.TryGetValue("format", out var f) || f != Format || !meta.TryGetValue("version", out var v) || v != FormatVersion
                || !meta.TryGetValue("scheme", out var k) || k != scheme.Key)
                throw new InvalidDataException("not a quantized-base cache of this format, version and scheme");
            foreach (var slot in slots)
            {
                cancellation.ThrowIfCancellationRequested();
                var linear = (FineTuneAgent.Torch.Modules.Linear)slot.Module;
                var bias = linear.bias is null ? null : reader.Load(slot.Name + ".bias");
                if (scheme.Type == "nf4")
                {
                    var nested = scheme.DoubleQuant;
                    var weight = Nf4Weight.FromStorage(reader.Load(slot.Name + ".packed"), reader.Load(slot.Name + ".absmax"), [linear.out_features, linear.in_features], dtype, scheme.BlockSize,
                        nested ? reader.Load(slot.Name + ".nested_absmax") : null, nested ? reader.Load(slot.Name + ".nested_code") : null, nested ? reader.Load(slot.Name + ".nested_offset") : null);
                    built.Add(new Nf4Linear(weight, bias, dtype));
                }
                else
                {
                    built.Add(new Int8Linear(Int8Weight.FromStorage(reader.Load(slot.Name + ".data"), reader.Load(slot.Name + ".row_stats"), dtype), bias, dtype));
                }
                bias?.Dispose();
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var m in built)
                m.Dispose();
            throw;
        }
        catch (Exception e) when (e is SafetensorsException or InvalidDataException or KeyNotFoundException or ArgumentException or IOException)
        {
            foreach (var m in built)
                m.Dispose();
            problem = $"{cacheFile}: {e.Message}; quantizing again";
            return false;
        }
        for (var i = 0; i < slots.Count; i++)
        {
            slots[i].Replace(built[i]).Dispose();
            progress?.Report(new QuantizationProgress(slots[i].Name + ".weight", i + 1, slots.Count, FromCache: true));
        }
        problem = null;
        return true;
    }
}
