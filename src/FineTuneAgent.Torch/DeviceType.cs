namespace FineTuneAgent.Torch;

/// <summary>c10::DeviceType codes for the device types this binding supports.</summary>
public enum DeviceType
{
    CPU = 0,
    CUDA = 1,
}
