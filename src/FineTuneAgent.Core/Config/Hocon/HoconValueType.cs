namespace FineTuneAgent.Core.Config.Hocon;

public enum HoconValueType
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}
