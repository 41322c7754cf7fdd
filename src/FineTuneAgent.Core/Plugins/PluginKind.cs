namespace FineTuneAgent.Core.Plugins;

/// <summary>What a plugin implementation provides: a model family or a fine-tuning method.</summary>
public enum PluginKind
{
    /// <summary>An <see cref="Abstractions.Templates.IModelTemplate"/>.</summary>
    Template,

    /// <summary>An <see cref="Abstractions.Methods.IFineTuneMethod"/>.</summary>
    Method,
}
