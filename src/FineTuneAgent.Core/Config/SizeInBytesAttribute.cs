namespace FineTuneAgent.Core.Config;

/// <summary>
/// Marks a <c>long</c> setting as a size: the binder reads it with HOCON's size units
/// ("16MiB", "10MB", or a number of bytes) instead of as a plain number.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SizeInBytesAttribute : Attribute;
