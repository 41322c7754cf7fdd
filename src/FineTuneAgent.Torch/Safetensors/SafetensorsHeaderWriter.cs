using System.Globalization;
using System.Text;

namespace FineTuneAgent.Torch;

/// <summary>
/// Lays out a file as the reference writer does: tensors ordered by dtype alignment, widest
/// first, then by name, so every tensor starts at a multiple of its element size; compact JSON
/// with <c>__metadata__</c> first and each entry's fields in the order dtype, shape,
/// data_offsets; the JSON padded with spaces to a multiple of 8 bytes.
/// </summary>
internal static class SafetensorsHeaderWriter
{
    internal sealed record Entry(string Name, torch.Tensor Tensor, SafetensorsDType DType, long[] Shape, long ByteSize, torch.ScalarType StoredType);

    /// <summary>The padded header bytes and the tensors in the order their data must follow.</summary>
    /// <param name="storeAs">The dtype floating-point tensors are stored as (null: their own).</param>
    public static (byte[] Header, IReadOnlyList<Entry> Order) Prepare(
        IReadOnlyDictionary<string, torch.Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, torch.ScalarType? storeAs = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.Select(kv => Describe(kv.Key, kv.Value, storeAs)).ToList();
        entries.Sort((a, b) =>
        {
            var byAlignment = b.DType.CompareTo(a.DType);
            return byAlignment != 0 ? byAlignment : CodePointComparer.Instance.Compare(a.Name, b.Name);
        });

        var json = new StringBuilder("{");
        if (metadata is not null)
        {
            json.AppendSerdeString(SafetensorsHeaderParser.MetadataKey).Append(":{");
            // serde writes a HashMap in no fixed order; sorting makes our files reproducible.
            var first = true;
            foreach (var key in metadata.Keys.Order(CodePointComparer.Instance))
            {
                json.Append(first ? "" : ",").AppendSerdeString(key).Append(':').AppendSerdeString(metadata[key]);
                first = false;
            }
            json.Append('}').Append(entries.Count > 0 ? "," : "");
        }
        long offset = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            json.Append(i > 0 ? "," : "").AppendSerdeString(e.Name)
                .Append(":{\"dtype\":").AppendSerdeString(e.DType.ToString())
                .Append(",\"shape\":[").AppendJoin(',', e.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))
                .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append((offset + e.ByteSize).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += e.ByteSize;
        }
        json.Append('}');

        byte[] text;
        try
        {
            text = JsonText.StrictUtf8.GetBytes(json.ToString());
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("a tensor name or metadata entry is not valid Unicode (lone surrogate)", nameof(tensors), e);
        }
        // Padding keeps the data buffer 8-byte aligned in the file, so mapped tensors are aligned too.
        var padded = new byte[(text.Length + 7) / 8 * 8];
        text.CopyTo(padded, 0);
        padded.AsSpan(text.Length).Fill((byte)' ');
        return (padded, entries);
    }

    private static Entry Describe(string name, torch.Tensor tensor, torch.ScalarType? storeAs)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (name == SafetensorsHeaderParser.MetadataKey)
            throw new ArgumentException($"'{name}' is reserved for the header's metadata and cannot name a tensor", nameof(name));
        var scalarType = storeAs is { } s && tensor.is_floating_point() ? s : tensor.dtype;
        var dtype = SafetensorsDTypes.FromScalarType(scalarType)
            ?? throw new ArgumentException($"tensor '{name}' has dtype {scalarType}, which safetensors files written here cannot hold", nameof(tensor));
        return new Entry(name, tensor, dtype, tensor.shape, tensor.numel() * torch.ElementSize(scalarType), scalarType);
    }
}
