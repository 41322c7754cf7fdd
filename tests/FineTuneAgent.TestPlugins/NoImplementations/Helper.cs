namespace FineTuneAgent.TestPlugins.NoImplementations;

/// <summary>Something a plugin might hold that is neither a template nor a method.</summary>
public static class Helper
{
    public static int Answer => 42;
}
