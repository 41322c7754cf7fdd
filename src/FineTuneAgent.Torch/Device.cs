namespace FineTuneAgent.Torch;

public static partial class torch
{
    /// <summary>A device as PyTorch names it: "cpu", "cuda", "cuda:1". Index -1 means the current one.</summary>
    public sealed class Device : IEquatable<Device>
    {
        public Device(DeviceType type, int index = -1)
        {
            if (index < -1)
                throw new ArgumentOutOfRangeException(nameof(index), index, "device index must be -1 (current) or non-negative");
            this.type = type;
            this.index = index;
        }

        public Device(string description)
        {
            ArgumentNullException.ThrowIfNull(description);
            var parts = description.Trim().ToLowerInvariant().Split(':');
            type = parts[0] switch
            {
                "cpu" => DeviceType.CPU,
                "cuda" => DeviceType.CUDA,
                _ => throw new ArgumentException($"unknown device '{description}': expected cpu, cuda or cuda:N", nameof(description)),
            };
            var parsed = -1;
            if (parts.Length == 2 && (!int.TryParse(parts[1], out parsed) || parsed < 0))
                throw new ArgumentException($"invalid device index in '{description}'", nameof(description));
            index = parsed;
            if (parts.Length > 2)
                throw new ArgumentException($"unknown device '{description}': expected cpu, cuda or cuda:N", nameof(description));
        }

        public DeviceType type { get; }

        public int index { get; }

        public static implicit operator Device(string description) => new(description);

        public bool Equals(Device? other) => other is not null && other.type == type && other.index == index;

        public override bool Equals(object? obj) => Equals(obj as Device);

        public override int GetHashCode() => HashCode.Combine(type, index);

        public override string ToString()
        {
            var name = type == DeviceType.CPU ? "cpu" : "cuda";
            return index < 0 ? name : $"{name}:{index}";
        }
    }
}
